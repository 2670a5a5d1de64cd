using X402Serverless.Core.Health;
using X402Serverless.Core.Links;
using X402Serverless.Core.Protocol;
using X402Serverless.Core.Usage;

namespace X402Serverless.Handler.Listings;

/// <summary>
/// One listed link as the public sees it, with its provider's name, its 402's requirements and its real traffic
/// over the last 30 days. It holds the whole link, so renderers must take only public fields from it: never the
/// upstream, its headers or anything sealed.
/// </summary>
internal sealed record CatalogueEntry(
    PaidLink Link,
    string Provider,
    IReadOnlyList<PaymentRequirement> Requirements,
    long PaidCalls,
    long FailedCalls,
    string SearchText)
{
    /// <summary>Upstream latency over the same 30 days, from the usage counters' histogram.</summary>
    public LatencySummary Latency { get; init; } = LatencySummary.None;

    /// <summary>The last health probe's finding; null when the link has no probe (or none ran yet): no claim either way.</summary>
    public LinkHealth? Health { get; init; }

    /// <summary>Its probe found it down.</summary>
    public bool Down => Health is { Up: false };

    /// <summary>Calls that carried a payment: delivered and charged, or not charged because the upstream failed.</summary>
    public long Calls => PaidCalls + FailedCalls;

    /// <summary>Share of paid calls the upstream answered well; null before the first call.</summary>
    public double? SuccessRate => Calls == 0 ? null : (double)PaidCalls / Calls;

    public string Id => Link.Id;

    public string Name => Link.Name ?? Link.Id;
}
