using X402Serverless.Core.Links;
using X402Serverless.Core.Money;
using X402Serverless.Core.Protocol;
using X402Serverless.Handler.Forwarding;
using X402Serverless.Handler.Listings;

namespace X402Serverless.Handler.Paywall;

/// <summary>
/// A link ready for the paid path: requirements built for its price and each price rule's, secret headers opened
/// once, not per request. <see cref="For"/> gives the view of one request: its price and the requirements a payment
/// must match.
/// </summary>
internal sealed record CachedLink(
    PaidLink Link,
    IReadOnlyList<PaymentRequirement> Requirements,
    IReadOnlyList<KeyValuePair<string, string>> UpstreamHeaders,
    Uri Upstream,
    long ExpiresAtTicks)
{
    /// <summary>What this request costs: the link's price, or that of its most specific price rule.</summary>
    public Usd Price { get; init; } = Link.Price;

    /// <summary>Requirements for each price a rule sets other than the link's own (<see cref="For"/> keeps those as they are).</summary>
    public IReadOnlyDictionary<Usd, IReadOnlyList<PaymentRequirement>> RuleRequirements { get; init; } =
        new Dictionary<Usd, IReadOnlyList<PaymentRequirement>>();

    /// <summary>Its Bazaar discovery extension when listed, built once from the listing (null when unlisted).</summary>
    public BazaarExtension? Bazaar { get; init; }

    /// <summary>Its plain 402 challenges, rendered once; shared by the per-price views <see cref="For"/> makes (keyed by price).</summary>
    public ChallengeCache Challenges { get; } = new();

    /// <summary>
    /// This link as priced for one request, or null when the path, once normalised as it will be forwarded, leaves
    /// the upstream's base path: a "/cheap/../premium" must not buy "/premium" at the cheap price, and no paid call
    /// may reach the provider's other endpoints with the link's upstream headers (a "..\" is a "../" to the URI
    /// the request is forwarded to, and a call that did not come through Kestrel, such as MCP's, is not normalised).
    /// </summary>
    public CachedLink? For(string method, string? rest)
    {
        // Only a '.', a '\' or an escape can make a dot segment; the hot path's plain paths skip building the target.
        var mayClimb = rest is not null && rest.AsSpan().IndexOfAny('.', '\\', '%') >= 0;
        if (Link.PriceRules.Count == 0 && !mayClimb)
        {
            return this;
        }
        var basePath = Upstream.AbsolutePath.TrimEnd('/');
        var path = UpstreamForwarder.TargetFor(Upstream, rest, default).AbsolutePath;
        if (path != basePath && !path.StartsWith(basePath + "/", StringComparison.Ordinal))
        {
            return null;
        }
        if (Link.PriceRules.Count == 0)
        {
            return this;
        }
        var relative = Uri.UnescapeDataString(path[basePath.Length..]);
        var price = Link.PriceFor(method, relative.Length == 0 ? "/" : relative);
        return price == Price ? this : this with { Price = price, Requirements = RuleRequirements.GetValueOrDefault(price, []) };
    }
}
