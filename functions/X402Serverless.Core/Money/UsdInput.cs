using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace X402Serverless.Core.Money;

/// <summary>
/// A dollar amount as a client sent it: parsed once, at the edge, but kept with its verdict so that a request's
/// validator can report a bad amount beside every other problem instead of stopping at the first.
/// </summary>
[JsonConverter(typeof(UsdInputJsonConverter))]
public readonly record struct UsdInput(string Text, Usd Value, UsdParseError Error)
{
    public static UsdInput Of(string? text)
    {
        var error = UsdText.TryParse(text, out var value);
        return new(text ?? "", value, error);
    }

    public bool IsValid => Error == UsdParseError.None;

    public bool IsPositive => IsValid && Value.IsPositive;
}

/// <summary>A JSON string or number, taken by its exact text; any other JSON kind is a wrong type.</summary>
public sealed class UsdInputJsonConverter : JsonConverter<UsdInput>
{
    public override UsdInput Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ReadInput(ref reader);

    /// <summary>The one reading of a dollar amount from JSON, shared with <see cref="UsdJsonConverter"/>.</summary>
    public static UsdInput ReadInput(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.String => UsdInput.Of(reader.GetString()),
        JsonTokenType.Number => UsdInput.Of(System.Text.Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan)),
        _ => throw new JsonException("A USD amount is a decimal string such as \"0.01\"."),
    };

    public override void Write(Utf8JsonWriter writer, UsdInput value, JsonSerializerOptions options) => writer.WriteStringValue(value.Text);
}
