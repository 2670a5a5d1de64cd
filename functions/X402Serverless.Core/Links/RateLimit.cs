namespace X402Serverless.Core.Links;

/// <summary>A token bucket: up to <see cref="Requests"/> calls at once, refilled at Requests per <see cref="PerSeconds"/>.</summary>
public sealed record RateLimit(int Requests, int PerSeconds)
{
    public const int MaxRequests = 1_000_000;
    public const int MaxPerSeconds = 86_400;
}

/// <summary>
/// A link's rate limits: per payer (the payer account for credits, the paying wallet for x402) and per client address.
/// A limit left out follows the gateway's default for it (X402:RateLimits).
/// </summary>
public sealed record LinkRateLimits(RateLimit? PerPayer, RateLimit? PerIp);
