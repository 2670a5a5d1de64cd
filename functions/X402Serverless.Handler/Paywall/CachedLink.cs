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
}
