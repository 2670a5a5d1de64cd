using System.Text.Json;

namespace X402Serverless.Core.Passes;

/// <summary>The stored form of a link's <see cref="PassOffer"/> (one column or property beside the link's other fields).</summary>
public static class PassOfferJson
{
    public static string? Write(PassOffer? offer) => offer is null ? null : JsonSerializer.Serialize(offer, JsonSerializerOptions.Web);

    public static PassOffer? Read(string? json) => string.IsNullOrEmpty(json) ? null : JsonSerializer.Deserialize<PassOffer>(json, JsonSerializerOptions.Web);
}
