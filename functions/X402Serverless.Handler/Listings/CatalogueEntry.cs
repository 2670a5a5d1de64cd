using X402Serverless.Core.Links;
using X402Serverless.Core.Protocol;

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
    /// <summary>Calls that carried a payment: delivered and charged, or not charged because the upstream failed.</summary>
    public long Calls => PaidCalls + FailedCalls;

    /// <summary>Share of paid calls the upstream answered well; null before the first call.</summary>
    public double? SuccessRate => Calls == 0 ? null : (double)PaidCalls / Calls;

    public string Id => Link.Id;

    public string Name => Link.Name ?? Link.Id;
}
