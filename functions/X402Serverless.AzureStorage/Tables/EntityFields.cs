using System.Globalization;
using System.Text.Json;
using Azure.Data.Tables;

namespace X402Serverless.AzureStorage.Tables;

/// <summary>
/// Reading and writing entity properties in the stored formats: timestamps as ISO-8601 strings, lists as JSON strings,
/// micro-dollar and other whole amounts as decimal strings (what every row written so far holds). Reads also accept
/// an Int64/Int32 property, so a row typed by another tool still loads.
/// </summary>
internal static class EntityFields
{
    public static string Str(TableEntity e, string name) => e.GetString(name) ?? throw new InvalidDataException($"Entity lacks {name}.");

    public static string? OptStr(TableEntity e, string name) => e[name] as string;

    public static bool Bool(TableEntity e, string name) => e[name] is true;

    public static int? OptInt(TableEntity e, string name) => e[name] switch
    {
        int i => i,
        long l => checked((int)l),
        string s when s.Length > 0 => int.Parse(s, CultureInfo.InvariantCulture),
        _ => null,
    };

    public static DateTimeOffset Time(TableEntity e, string name) => Time(Str(e, name));

    public static DateTimeOffset Time(string value) =>
        DateTimeOffset.Parse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    public static string Time(DateTimeOffset value) => value.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    public static IReadOnlyList<string> List(TableEntity e, string name) => JsonSerializer.Deserialize<string[]>(Str(e, name)) ?? [];

    public static string List(IReadOnlyList<string> values) => JsonSerializer.Serialize(values);

    public static long? OptLong(TableEntity e, string name) => e[name] switch
    {
        long l => l,
        int i => i,
        string s when s.Length > 0 => long.Parse(s, CultureInfo.InvariantCulture),
        _ => null,
    };

    public static string? Long(long? value) => value?.ToString(CultureInfo.InvariantCulture);
}
