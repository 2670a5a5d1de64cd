using System.Text.Json;
using System.Text.Json.Serialization;

namespace X402Serverless.Core.Links;

/// <summary>How stores keep a link's rate limits: one JSON object ({"perPayer":{"requests","perSeconds"},"perIp":…}), null when none.</summary>
public static class RateLimitJson
{
    public static string? Write(LinkRateLimits? limits) =>
        limits is null ? null : JsonSerializer.Serialize(limits, RateLimitJsonContext.Default.LinkRateLimits);

    public static LinkRateLimits? Read(string? json) =>
        string.IsNullOrEmpty(json) ? null : JsonSerializer.Deserialize(json, RateLimitJsonContext.Default.LinkRateLimits);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(LinkRateLimits))]
internal sealed partial class RateLimitJsonContext : JsonSerializerContext;
