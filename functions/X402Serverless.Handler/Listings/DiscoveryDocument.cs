using System.Text.Json.Nodes;
using X402Serverless.Core.Protocol;

namespace X402Serverless.Handler.Listings;

/// <summary>
/// GET /discovery/resources in the shape of the x402 Bazaar's list response (@x402/extensions' DiscoveryResourcesResponse):
/// {x402Version, items: [{resource, type, x402Version, accepts, lastUpdated, description, serviceName, tags, metadata, extensions}],
/// pagination: {limit, offset, total}}. Only links that take x402 appear: an item's accepts are what its 402 offers.
/// </summary>
internal static class DiscoveryDocument
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    public static string Render(CatalogueSnapshot snapshot, string linkBase, string baseUrl, string? type, int limit, int offset)
    {
        var matching = snapshot.Entries.Where(e => e.Requirements.Count > 0 && (type is null || type == "http")).ToList();
        var items = new JsonArray();
        foreach (var entry in matching.Skip(offset).Take(limit))
        {
            items.Add(Item(entry, linkBase, baseUrl));
        }
        return new JsonObject
        {
            ["x402Version"] = 2,
            ["items"] = items,
            ["pagination"] = new JsonObject { ["limit"] = limit, ["offset"] = offset, ["total"] = matching.Count },
        }.ToJsonString();
    }

    private static JsonObject Item(CatalogueEntry entry, string linkBase, string baseUrl)
    {
        var link = entry.Link;
        var listing = link.Listing;
        var accepts = new JsonArray();
        foreach (var requirement in entry.Requirements)
        {
            accepts.Add(RequirementJson.V2(requirement));
        }
        var item = new JsonObject
        {
            ["resource"] = $"{linkBase}/l/{link.Id}",
            ["type"] = "http",
            ["x402Version"] = 2,
            ["accepts"] = accepts,
            ["lastUpdated"] = link.UpdatedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ"),
            ["serviceName"] = entry.Name,
            ["tags"] = Strings(listing.Tags),
        };
        if (link.Description is { } description)
        {
            item["description"] = description;
        }
        var metadata = new JsonObject
        {
            ["name"] = entry.Name,
            ["description"] = link.Description,
            ["provider"] = entry.Provider,
            ["category"] = listing.Category,
            ["tags"] = Strings(listing.Tags),
            ["methods"] = Strings(link.Methods.Count == 0 ? ["GET", "POST", "PUT", "PATCH", "DELETE"] : link.Methods),
            ["price"] = link.Price.ToString(),
            ["currency"] = "USD",
            ["paymentTypes"] = Strings(link.Accepts),
            ["pass"] = link.Pass is { } pass ? Passes.PassChallenge.Describe(link, pass, baseUrl) : null,
            ["exampleRequest"] = listing.ExampleRequest,
            ["inputSchema"] = Schema(listing.InputSchema),
            ["outputSchema"] = Schema(listing.OutputSchema),
            ["documentation"] = $"{baseUrl}/apis/{link.Id}",
            ["calls30d"] = entry.Calls,
            ["successRate30d"] = entry.SuccessRate is { } rate ? Math.Round(rate, 4) : null,
            ["latencyP50Ms"] = Management.UsageTable.Milliseconds(entry.Latency.P50),
            ["latencyP95Ms"] = Management.UsageTable.Milliseconds(entry.Latency.P95),
        };
        // Only a probed link says anything about its health.
        if (entry.Health is { } health)
        {
            metadata["health"] = new JsonObject
            {
                ["up"] = health.Up,
                ["checkedAt"] = health.CheckedAt.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                ["consecutiveFailures"] = health.ConsecutiveFailures,
            };
        }
        item["metadata"] = metadata;
        // The same Bazaar extension the link's 402 carries (DiscoveryResource.extensions echoes it), for its first method.
        if (BazaarExtension.For(link)?.Declare(BazaarExtension.DiscoveryMethod(link)) is { } bazaar)
        {
            item["extensions"] = new JsonObject { [BazaarExtension.Key] = bazaar };
        }
        return item;
    }

    internal static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());

    internal static JsonNode? Schema(string? json) => json is null ? null : JsonNode.Parse(json);
}
