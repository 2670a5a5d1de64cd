namespace X402Serverless.Core.Links;

/// <summary>A link's rate limits as a provider sends them (<see cref="LinkRateLimits"/>); checked by <see cref="LinkValidator"/>.</summary>
public sealed record RateLimitDraft
{
    public RateLimitRuleDraft? PerPayer { get; init; }

    public RateLimitRuleDraft? PerIp { get; init; }

    public LinkRateLimits ToLimits() => new(PerPayer?.ToRule(), PerIp?.ToRule());
}

/// <summary>One bucket's size and refill period as sent; long so an out-of-range number is reported, not overflowed.</summary>
public sealed record RateLimitRuleDraft
{
    public long? Requests { get; init; }

    public long? PerSeconds { get; init; }

    public RateLimit ToRule() => new((int)Requests!.Value, (int)PerSeconds!.Value);
}
