using X402Serverless.Core.Links;
using X402Serverless.Core.Protocol;

namespace X402Serverless.Handler.Paywall;

/// <summary>A link ready for the paid path: requirements built, price parsed and secret headers opened once, not per request.</summary>
internal sealed record CachedLink(
    PaidLink Link,
    IReadOnlyList<PaymentRequirement> Requirements,
    IReadOnlyList<KeyValuePair<string, string>> UpstreamHeaders,
    Uri Upstream,
    long ExpiresAtTicks)
{
    /// <summary>The price in micro-USD, what a credit-paid call holds; null when finer than a micro-dollar (x402 only).</summary>
    public long? PriceMicros { get; } = (long?)Core.Pricing.UsdPrice.Parse(Link.Price).ToAtomic(Core.Pricing.Money.Decimals);
}
