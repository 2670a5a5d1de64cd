using X402Serverless.Core.Charges;
using X402Serverless.Core.Ports;

namespace X402Serverless.Core.Passes;

/// <summary>
/// A call paid by a pass: the call is taken from the pass before forwarding (the hold, recorded as a spend) and kept
/// when the call is charged, or given back if it is not, so a failed upstream call spends nothing. A spend neither
/// kept nor given back (the process stopped) is given back by the stale sweep. No money moves: the pass was paid when
/// bought.
/// </summary>
public sealed class PassCharge(IPassStore passes, Pass spent, string spendId, TimeProvider time) : ICharge
{
    private int _concluded;

    public Pass Pass => spent;

    public bool CapturesCompleteAnswersOnly => false;

    public bool AlreadyPaid => false;

    /// <summary>The spend this call took its pass call under (kept by the capture, given back by the release).</summary>
    public string SpendId => spendId;

    /// <summary>Takes a call from the holder's pass; null when no pass of theirs is usable on the link now.</summary>
    public static async Task<PassCharge?> AuthorizeAsync(IPassStore passes, string linkId, string holder, TimeProvider time, CancellationToken cancellationToken)
    {
        var spendId = "spd_" + Guid.NewGuid().ToString("N");
        return await passes.TrySpendAsync(linkId, holder, time.GetUtcNow(), spendId, cancellationToken) is { } spent ? new PassCharge(passes, spent, spendId, time) : null;
    }

    /// <summary>A call that outlived the stale sweep, which gave its pass call back: the call is not paid, so its answer is withheld.</summary>
    public const string CallGivenBack = "pass_call_given_back";

    public async Task<ChargeCapture> CaptureAsync(CancellationToken cancellationToken)
    {
        // Kept before the answer is sent: a capture that throws leaves the spend to the release, as nothing was delivered.
        var kept = spent.CallsLeft is null || await ConcludeAsync(cancellationToken);
        Interlocked.Exchange(ref _concluded, 1);
        return kept
            ? ChargeCapture.Captured(new PassReceipt(spent.Id, spent.CallsLeft, spent.ExpiresAt))
            : new ChargeCapture(CaptureKind.Refused, null, CallGivenBack, "This call took longer than any call may, and its pass call was given back; nothing was taken.");
    }

    /// <summary>
    /// Keeps the spend's call, asked again should the store fail: it may have kept it and lost the answer, and a release
    /// would then find nothing to give back, leaving the call taken and its answer unsent. Asking again is safe (a
    /// spend kept before reads as kept).
    /// </summary>
    private async Task<bool> ConcludeAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await passes.ConcludeSpendAsync(spent.LinkId, spendId, cancellationToken);
            }
            catch (Exception) when (attempt < ConcludeAttempts && !cancellationToken.IsCancellationRequested)
            {
            }
        }
    }

    private const int ConcludeAttempts = 3;

    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _concluded, 1) == 0 && spent.CallsLeft is not null)
        {
            await passes.GiveBackSpendAsync(spent.LinkId, spendId, time.GetUtcNow(), cancellationToken);
        }
    }
}

/// <summary>A call paid by a pass: which one, and what is left of it after this call.</summary>
public sealed record PassReceipt(string PassId, int? CallsLeft, DateTimeOffset? ExpiresAt) : ChargeReceipt;
