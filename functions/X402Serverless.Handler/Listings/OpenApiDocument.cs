using System.Text.Json.Nodes;
using X402Serverless.Core.Links;
using X402Serverless.Core.Protocol;

namespace X402Serverless.Handler.Listings;

/// <summary>
/// /openapi.json: an OpenAPI 3.1 description of every listed paid API, one path per link (/l/{id}) with its methods,
/// its input and output schemas when the provider gave them, and its 402: price in x-x402-price (USD) and the
/// payment requirements its 402 offers in x-x402-accepts.
/// </summary>
internal static class OpenApiDocument
{
    private static readonly string[] AnyMethod = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    public static string Render(CatalogueSnapshot snapshot, string linkBase, string baseUrl) => Build(snapshot, linkBase, baseUrl).ToJsonString();

    /// <summary>The document as a tree, for /reference to render the very same description as HTML.</summary>
    public static JsonObject Build(CatalogueSnapshot snapshot, string linkBase, string baseUrl)
    {
        var paths = new JsonObject();
        foreach (var entry in snapshot.Entries)
        {
            var item = new JsonObject();
            foreach (var method in entry.Link.Methods.Count == 0 ? AnyMethod : entry.Link.Methods.Where(m => m is not ("HEAD" or "OPTIONS")))
            {
                item[method.ToLowerInvariant()] = Operation(entry, method, baseUrl);
            }
            paths[$"/l/{entry.Id}"] = item;
        }
        return new JsonObject
        {
            ["openapi"] = "3.1.0",
            ["info"] = new JsonObject
            {
                ["title"] = "Paid APIs",
                ["version"] = "1",
                ["description"] = "Listed pay-per-call APIs. Each call is paid with x402 (answer the 402 with a PAYMENT-SIGNATURE, v2, or X-PAYMENT, v1) or, where a link takes them, with prepaid credits (Authorization: Bearer <payer key>). A path after a link's id is passed on to its API.",
            },
            ["servers"] = new JsonArray(new JsonObject { ["url"] = linkBase }),
            ["externalDocs"] = new JsonObject { ["url"] = baseUrl + "/", ["description"] = "The catalogue" },
            ["paths"] = paths,
        };
    }

    private static JsonObject Operation(CatalogueEntry entry, string method, string baseUrl)
    {
        var link = entry.Link;
        var listing = link.Listing;
        var operation = new JsonObject
        {
            ["operationId"] = $"{link.Id}_{method.ToLowerInvariant()}",
            ["summary"] = entry.Name,
            ["tags"] = DiscoveryDocument.Strings(listing.Tags),
            ["externalDocs"] = new JsonObject { ["url"] = $"{baseUrl}/apis/{link.Id}" },
            ["x-x402-price"] = link.Price.ToString(),
            ["x-x402-currency"] = "USD",
            ["x-x402-payment-types"] = DiscoveryDocument.Strings(link.Accepts),
            ["x-x402-accepts"] = Accepts(entry),
            ["x-provider"] = entry.Provider,
        };
        if (link.Description is { } description)
        {
            operation["description"] = description;
        }
        if (link.PriceRules.Count > 0)
        {
            operation["x-x402-price-rules"] = new JsonArray(link.PriceRules.Select(r => (JsonNode?)new JsonObject
            {
                ["method"] = r.Method,
                ["pathPrefix"] = r.PathPrefix,
                ["price"] = r.Price.ToString(),
            }).ToArray());
        }
        if (listing.InputSchema is { } input)
        {
            if (method is "GET" or "DELETE")
            {
                operation["parameters"] = QueryParameters(JsonNode.Parse(input)!);
            }
            else
            {
                operation["requestBody"] = new JsonObject { ["content"] = Json(JsonNode.Parse(input)) };
            }
        }
        var success = new JsonObject { ["description"] = "The API's answer, once paid." };
        if (listing.OutputSchema is { } output)
        {
            success["content"] = Json(JsonNode.Parse(output));
        }
        operation["responses"] = new JsonObject
        {
            ["200"] = success,
            ["402"] = new JsonObject
            {
                ["description"] = $"Payment required: {link.Price} USD per call. The PAYMENT-REQUIRED header (base64 JSON, x402 v2) and the body (x402 v1) list the accepted payments.",
                ["headers"] = new JsonObject
                {
                    ["PAYMENT-REQUIRED"] = new JsonObject
                    {
                        ["description"] = "Base64 of the x402 v2 PaymentRequired object.",
                        ["schema"] = new JsonObject { ["type"] = "string" },
                    },
                },
            },
        };
        return operation;
    }

    private static JsonArray Accepts(CatalogueEntry entry)
    {
        var accepts = new JsonArray();
        foreach (var requirement in entry.Requirements)
        {
            accepts.Add(RequirementJson.V2(requirement));
        }
        return accepts;
    }

    private static JsonObject Json(JsonNode? schema) => new() { ["application/json"] = new JsonObject { ["schema"] = schema } };

    // A GET takes its input in the query: each top-level property of an object schema becomes a query parameter.
    private static JsonArray QueryParameters(JsonNode schema)
    {
        var parameters = new JsonArray();
        var required = schema["required"] is JsonArray names ? names.Select(n => n is JsonValue v && v.TryGetValue<string>(out var name) ? name : null).ToHashSet() : [];
        if (schema["properties"] is JsonObject properties)
        {
            foreach (var (name, property) in properties)
            {
                parameters.Add(new JsonObject
                {
                    ["name"] = name,
                    ["in"] = "query",
                    ["required"] = required.Contains(name),
                    ["schema"] = property?.DeepClone(),
                });
            }
        }
        return parameters;
    }
}
