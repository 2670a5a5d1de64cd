namespace X402Serverless.Core.Usage;

/// <summary>What happened to a call on a paid link, counted per link and UTC day.</summary>
public static class UsageKinds
{
    /// <summary>Answered 402 with the link's payment options (no payment sent).</summary>
    public const string Challenged = "challenged";

    /// <summary>Paid and delivered: settled or scheduled (x402), or captured (credits, allowance).</summary>
    public const string Paid = "paid";

    /// <summary>Paid for, but the upstream failed or refused, so nothing was charged.</summary>
    public const string NotCharged = "not_charged";

    /// <summary>Refused 429 by a rate limit, before any payment was looked at or charged.</summary>
    public const string RateLimited = "rate_limited";

    /// <summary>Delivered on a pass: a call taken from a pass, no new charge.</summary>
    public const string Pass = "pass";

    /// <summary>A pass bought for the link (its payment is in the payments list or the ledger like a call's).</summary>
    public const string PassSold = "pass_sold";

    public static readonly IReadOnlyList<string> All = [Challenged, Paid, NotCharged, RateLimited, Pass, PassSold];
}
