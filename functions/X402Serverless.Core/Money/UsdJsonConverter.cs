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
        var input = UsdInputJsonConverter.ReadInput(ref reader);
        return input.IsValid ? input.Value : throw new JsonException(UsdText.Explain(input.Error));
    }

    public override void Write(Utf8JsonWriter writer, Usd value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}
