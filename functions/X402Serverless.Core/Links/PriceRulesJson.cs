using System.Text.Json;
using System.Text.Json.Serialization;

namespace X402Serverless.Core.Links;

/// <summary>How stores keep a link's price rules: one JSON array ([{"method","pathPrefix","price"}]), prices as canonical text.</summary>
public static class PriceRulesJson
{
    public static string Write(IReadOnlyList<PriceRule> rules) =>
        rules.Count == 0 ? "[]" : JsonSerializer.Serialize(rules.ToList(), PriceRulesJsonContext.Default.ListPriceRule);

    public static IReadOnlyList<PriceRule> Read(string? json) =>
        string.IsNullOrEmpty(json) || json == "[]" ? [] : JsonSerializer.Deserialize(json, PriceRulesJsonContext.Default.ListPriceRule) ?? [];
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(List<PriceRule>))]
internal sealed partial class PriceRulesJsonContext : JsonSerializerContext;
