using X402Serverless.Core.Payments;

namespace X402Serverless.Core.Charges;

/// <summary>
/// A call whose payment was captured (settled, or left to its settlement job) but whose answer was never recorded
/// under its payment identifier: the process died in between. The same payment and id again gets the content from
/// the upstream without paying again (so does a balance-paid call under an Idempotency-Key whose hold was captured). Nothing is taken or given back; the identifier's claim is what lets one retry in.
/// </summary>
public sealed class RecoveredCharge(ChargeReceipt receipt) : ICharge
{
    public bool CapturesCompleteAnswersOnly => false;

    public bool AlreadyPaid => true;

    public Task<ChargeCapture> CaptureAsync(CancellationToken cancellationToken) => Task.FromResult(ChargeCapture.Captured(receipt));

    public Task ReleaseAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The charge for a payment that took its money, or null when it did not (or not yet).</summary>
    public static RecoveredCharge? For(PaymentRecord payment, int version, string network) => payment.Status switch
    {
        PaymentStatus.Settled => new(new X402Receipt(version, payment, network, payment.Transaction, Deferred: false)),
        PaymentStatus.Pending => new(new X402Receipt(version, payment, network, null, Deferred: true)),
        _ => null,
    };
}
