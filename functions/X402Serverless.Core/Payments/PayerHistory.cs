namespace X402Serverless.Core.Payments;

/// <summary>
/// What a wallet's past payments say about serving it content before settlement. Content-first is credit: it goes
/// only to a wallet that has paid this organisation before, only while few of its deferred payments are unsettled
/// (the exposure is bounded), and never again after one ended unpaid (failed or expired).
/// </summary>
/// <param name="HasSettledHere">A payment of this wallet to the same organisation ended Settled.</param>
/// <param name="HasUnpaidDeferred">A deferred payment of this wallet, to anyone here, ended Failed or Expired.</param>
/// <param name="DeferredInFlight">How many deferred payments of this wallet, to anyone here, are not settled yet, counted up
/// to the bound asked for (0 when no bound was).</param>
public sealed record PayerHistory(bool HasSettledHere, bool HasUnpaidDeferred, int DeferredInFlight)
{
    /// <summary>
    /// Bounds are below this. Asked for a history with a bound at or above it, stores do not count in-flight payments
    /// (the caller has no bound: the setting is 0); the setting itself may not reach it (checked at start).
    /// </summary>
    public const int InFlightCountCap = 10_000;

    /// <summary>Whether a deferred link may serve this wallet before settlement, given the link's <see cref="DeferredPayers"/> choice.</summary>
    public bool MayDefer(string deferredPayers, int maxInFlight) =>
        !HasUnpaidDeferred && DeferredInFlight < maxInFlight && (HasSettledHere || deferredPayers == DeferredPayers.Any);
}
