using System.Globalization;
using System.Text.Json.Nodes;
using X402Serverless.Core.Links;
using X402Serverless.Core.Protocol;
using X402Serverless.Handler.Listings;

namespace X402Serverless.Handler.Mcp;

/// <summary>
/// A listed API as the MCP tools show it: a summary for search, everything its catalogue page shows for describe.
/// Only public fields of the link: never its upstream, headers or anything sealed (as <see cref="CatalogueEntry"/> asks).
/// </summary>
internal static class ListingJson
{
    private static readonly string[] AnyMethod = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    public static JsonObject Summary(CatalogueEntry entry, string linkBase, string baseUrl)
    {
        var link = entry.Link;
        return new JsonObject
        {
            ["id"] = entry.Id,
            ["name"] = entry.Name,
            ["description"] = link.Description,
            ["provider"] = entry.Provider,
            ["category"] = link.Listing.Category,
            ["tags"] = DiscoveryDocument.Strings(link.Listing.Tags),
            ["price"] = link.Price.ToString(),
            ["currency"] = "USD",
            ["methods"] = DiscoveryDocument.Strings(Methods(link)),
            ["paymentTypes"] = DiscoveryDocument.Strings(link.Accepts),
            ["networks"] = DiscoveryDocument.Strings(link.Accepts402 ? link.Networks : []),
            ["url"] = $"{linkBase}/l/{link.Id}",
            ["documentation"] = $"{baseUrl}/apis/{link.Id}",
            ["pass"] = link.Pass is { } pass ? Passes.PassChallenge.Describe(link, pass, baseUrl) : null,
        };
    }

    public static JsonObject Detail(CatalogueEntry entry, string linkBase, string baseUrl)
    {
        var link = entry.Link;
        var detail = Summary(entry, linkBase, baseUrl);
        detail["callsLast30Days"] = entry.Calls;
        detail["successRateLast30Days"] = entry.SuccessRate is { } rate ? Math.Round(rate, 4) : null;
        detail["priceRules"] = new JsonArray(link.PriceRules.Select(r => (JsonNode)new JsonObject
        {
            ["method"] = r.Method, ["pathPrefix"] = r.PathPrefix, ["price"] = r.Price.ToString(),
        }).ToArray());
        detail["kyc"] = link.KycLevel == Core.Kyc.KycLevels.None ? null : new JsonObject
        {
            ["level"] = link.KycLevel,
            ["countries"] = DiscoveryDocument.Strings(link.KycCountries),
            ["verifyUrl"] = $"{baseUrl}/api/me/kyc",
        };
        detail["updatedAt"] = link.UpdatedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        detail["exampleRequest"] = link.Listing.ExampleRequest;
        detail["inputSchema"] = DiscoveryDocument.Schema(link.Listing.InputSchema);
        detail["outputSchema"] = DiscoveryDocument.Schema(link.Listing.OutputSchema);
        detail["payment"] = Payment(entry, baseUrl);
        return detail;
    }

    /// <summary>How to pay: the x402 requirements of its 402 at the link's price (a price rule's path costs its own), and balances.</summary>
    private static JsonObject Payment(CatalogueEntry entry, string baseUrl)
    {
        var link = entry.Link;
        var payment = new JsonObject
        {
            ["howTo"] = "Call the 'call' tool without a payment: it answers with the x402 PaymentRequired of this exact request "
                + "(isError, structuredContent). Sign one of its 'accepts' with an x402 client and call again with the PaymentPayload "
                + "in _meta[\"x402/payment\"] (or the base64 PAYMENT-SIGNATURE value in the 'payment' argument).",
        };
        if (link.Accepts402)
        {
            payment["x402"] = new JsonObject
            {
                ["x402Version"] = 2,
                ["accepts"] = new JsonArray(entry.Requirements.Select(r => (JsonNode)RequirementJson.V2(r)).ToArray()),
            };
        }
        if (link.Accepts.Any(a => a is PaymentTypes.Credits or PaymentTypes.Allowance))
        {
            payment["credits"] = new JsonObject
            {
                ["accepts"] = DiscoveryDocument.Strings(link.Accepts.Where(a => a is PaymentTypes.Credits or PaymentTypes.Allowance)),
                ["note"] = "Prepaid credits pay over HTTP with 'Authorization: Bearer <payer key>' on the paid URL.",
                ["topUpUrl"] = $"{baseUrl}/api/me/topup",
            };
        }
        return payment;
    }

    private static IReadOnlyList<string> Methods(PaidLink link) => link.Methods.Count == 0 ? AnyMethod : link.Methods;
}
