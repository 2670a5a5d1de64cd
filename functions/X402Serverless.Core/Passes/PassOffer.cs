using X402Serverless.Core.Money;

namespace X402Serverless.Core.Passes;

/// <summary>
/// What a link sells as a pass: <see cref="Calls"/> calls and/or <see cref="Minutes"/> minutes of calls for one
/// <see cref="Price"/>. At least one of the two bounds is set, so no pass is unlimited forever.
/// </summary>
public sealed record PassOffer(Usd Price, int? Calls, int? Minutes)
{
    public const int MaxCalls = 1_000_000;

    /// <summary>A year: a pass longer than that is a subscription, which this is not.</summary>
    public const int MaxMinutes = 525_600;
}
