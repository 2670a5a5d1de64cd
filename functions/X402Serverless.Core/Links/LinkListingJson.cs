using System.Text.Json;
using System.Text.Json.Serialization;

namespace X402Serverless.Core.Links;

/// <summary>The stored form of a <see cref="LinkListing"/>: one JSON text, the same in every store.</summary>
public static class LinkListingJson
{
    public static string? Write(LinkListing listing) =>
        listing.SameAs(LinkListing.None) ? null : JsonSerializer.Serialize(listing, LinkListingJsonContext.Default.LinkListing);

    public static LinkListing Read(string? json) =>
        string.IsNullOrEmpty(json) ? LinkListing.None : JsonSerializer.Deserialize(json, LinkListingJsonContext.Default.LinkListing) ?? LinkListing.None;
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(LinkListing))]
internal sealed partial class LinkListingJsonContext : JsonSerializerContext;
