using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace X402Serverless.Core.Money;

/// <summary>
/// Dollars in JSON are decimal strings ("0.01"), written canonically. Reading also takes a JSON number's exact text
/// ("monthlyAllowance": 25), parsed by the same rules, never through a double.
/// </summary>
public sealed class UsdJsonConverter : JsonConverter<Usd>
{
    public override Usd Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.TokenType switch
        {
            JsonTokenType.String => reader.GetString(),
            JsonTokenType.Number => System.Text.Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan),
            _ => throw new JsonException("A USD amount is a decimal string such as \"0.01\"."),
        };
        return UsdText.TryParse(text, out var value) switch
        {
            UsdParseError.None => value,
            var error => throw new JsonException(UsdText.Explain(error)),
        };
    }

    public override void Write(Utf8JsonWriter writer, Usd value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}
