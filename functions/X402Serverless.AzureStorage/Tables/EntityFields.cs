using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace X402Serverless.AzureStorage.Tables;

/// <summary>Reading and writing entity properties. Timestamps are ISO strings and lists JSON strings, so no Edm typing is needed.</summary>
internal static class EntityFields
{
    public static string Str(JsonObject e, string name) => (string?)e[name] ?? throw new InvalidDataException($"Entity lacks {name}.");

    public static string? OptStr(JsonObject e, string name) => e[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public static bool Bool(JsonObject e, string name) => e[name] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    public static DateTimeOffset Time(JsonObject e, string name) =>
        DateTimeOffset.Parse(Str(e, name), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    public static string Time(DateTimeOffset value) => value.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    public static IReadOnlyList<string> List(JsonObject e, string name) => JsonSerializer.Deserialize<string[]>(Str(e, name)) ?? [];

    public static string List(IReadOnlyList<string> values) => JsonSerializer.Serialize(values);

    public static long? OptLong(JsonObject e, string name) =>
        OptStr(e, name) is { } s ? long.Parse(s, CultureInfo.InvariantCulture) : null;

    public static string? Long(long? value) => value?.ToString(CultureInfo.InvariantCulture);
}
