using X402Serverless.Core.Charges;

namespace X402Serverless.Handler.Paywall;

/// <summary>
/// A call's release that fails (the store busy or down) is logged, not thrown: the answer the call has (the upstream's
/// uncharged answer, a problem, or the failure that ended it) is not replaced by the store's. What the charge
/// authorized is given back without it: a hold by the stale-hold sweep (its cap counters only if their give-back was
/// journaled first, on Table Storage), a pass call by the stale-spend sweep, a reserved x402 payment by payment recovery
/// (freed unless it landed), a transfer's claim when its lease runs out. Not so content owed by a settled payment and
/// claimed by this call (<see cref="Core.Charges.RedeemCharge"/>): it stays claimed, and the failure is logged.
/// </summary>
internal static class ChargeReleases
{
    public static async Task ReleaseOrLogAsync(this ICharge charge, ILogger logger, string linkId)
    {
        try
        {
            await charge.ReleaseAsync(CancellationToken.None);
        }
        catch (Exception e)
        {
            PaidLinkLog.ReleaseFailed(logger, e, linkId, (charge is Idempotency.RecordingCharge recording ? recording.Inner : charge).GetType().Name);
        }
    }
}
