using X402Serverless.Core.Charges;
using X402Serverless.Core.Ports;

namespace X402Serverless.Core.Passes;

/// <summary>
/// A call paid by a pass: the call is taken from the pass before forwarding (the hold) and given back if the call
/// is not charged, so a failed upstream call spends nothing. No money moves: the pass was paid when bought.
/// </summary>
public sealed class PassCharge(IPassStore passes, Pass spent) : ICharge
{
    private int _concluded;

    public Pass Pass => spent;

    public bool CapturesCompleteAnswersOnly => false;

    public bool AlreadyPaid => false;

    /// <summary>Takes a call from the holder's pass; null when no pass of theirs is usable on the link now.</summary>
    public static async Task<PassCharge?> AuthorizeAsync(IPassStore passes, string linkId, string holder, DateTimeOffset now, CancellationToken cancellationToken) =>
        await passes.TrySpendAsync(linkId, holder, now, cancellationToken) is { } spent ? new PassCharge(passes, spent) : null;

    public Task<ChargeCapture> CaptureAsync(CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _concluded, 1);
        return Task.FromResult(ChargeCapture.Captured(new PassReceipt(spent.Id, spent.CallsLeft, spent.ExpiresAt)));
    }

    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _concluded, 1) == 0)
        {
            await passes.RefundAsync(spent, cancellationToken);
        }
    }
}

/// <summary>A call paid by a pass: which one, and what is left of it after this call.</summary>
public sealed record PassReceipt(string PassId, int? CallsLeft, DateTimeOffset? ExpiresAt) : ChargeReceipt;
