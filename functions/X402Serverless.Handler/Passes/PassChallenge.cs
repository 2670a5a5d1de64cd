using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using X402Serverless.Core.Links;
using X402Serverless.Core.Passes;

namespace X402Serverless.Handler.Passes;

/// <summary>
/// What the 402 of a link selling a pass adds to its extensions: "pass" (what it sells and where to buy it) and
/// x402's "sign-in-with-x" challenge (a fresh nonce, this origin and resource, the link's chains), so a wallet
/// holding a pass signs in instead of paying. The nonce is not remembered: a proof is checked by origin, resource,
/// age and signature, and its nonce spent when used (<see cref="SiwxVerifier"/>).
/// </summary>
internal static class PassChallenge
{
    public const string PassKey = "pass";
    public const string Statement = "Sign in to use your pass for this link.";

    /// <param name="statement">What the wallet signs: on a link also taking credits, the bound of what the proof may spend there.</param>
    public static void Declare(JsonObject extensions, PaidLink link, PassOffer offer, string resourceUrl, string baseUrl, DateTimeOffset now, string statement)
    {
        extensions[PassKey] = Describe(link, offer, baseUrl);
        if (!new Uri(resourceUrl).AbsolutePath.StartsWith("/l/", StringComparison.Ordinal))
        {
            // The purchase's own 402 (/pass/{id}): signing in there spends nothing.
            return;
        }
        var info = new JsonObject
        {
            ["domain"] = new Uri(resourceUrl).Authority,
            ["uri"] = resourceUrl,
            ["version"] = "1",
            ["nonce"] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            ["issuedAt"] = Time(now),
            ["expirationTime"] = Time(now + SiwxCheck.MaxAge),
            ["statement"] = statement,
            ["resources"] = new JsonArray(resourceUrl),
        };
        extensions[SiwxPayload.ExtensionKey] = new JsonObject
        {
            ["info"] = info,
            ["supportedChains"] = new JsonArray(link.Networks.Select(n => (JsonNode?)new JsonObject { ["chainId"] = n, ["type"] = "eip191" }).ToArray()),
            ["schema"] = Schema(),
        };
    }

    /// <summary>The offer as the 402, the catalogue and the management API show it.</summary>
    public static JsonObject Describe(PaidLink link, PassOffer offer, string baseUrl) => new()
    {
        ["price"] = offer.Price.ToString(),
        ["currency"] = "USD",
        ["calls"] = offer.Calls,
        ["minutes"] = offer.Minutes,
        ["purchaseUrl"] = $"{baseUrl}/pass/{link.Id}",
        ["accepts"] = new JsonArray(link.Accepts.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()),
    };

    // The x402 reference writes JavaScript's toISOString(): milliseconds and Z.
    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static JsonObject Schema()
    {
        JsonObject Text(string? format = null) => format is null ? new() { ["type"] = "string" } : new() { ["type"] = "string", ["format"] = format };
        return new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["type"] = "object",
            ["properties"] = new JsonObject
            {
                ["domain"] = Text(), ["address"] = Text(), ["statement"] = Text(), ["uri"] = Text("uri"), ["version"] = Text(),
                ["chainId"] = Text(), ["type"] = Text(), ["nonce"] = Text(), ["issuedAt"] = Text("date-time"),
                ["expirationTime"] = Text("date-time"), ["notBefore"] = Text("date-time"), ["requestId"] = Text(),
                ["resources"] = new JsonObject { ["type"] = "array", ["items"] = Text("uri") },
                ["signature"] = Text(),
            },
            ["required"] = new JsonArray("domain", "address", "uri", "version", "chainId", "type", "nonce", "issuedAt", "signature"),
        };
    }
}
