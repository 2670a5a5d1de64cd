using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;

namespace X402Serverless.Core.Charges;

/// <summary>
/// The same x402 payment retried after its content was withheld while it settled. The money already moved, so
/// "capture" is delivering the content once; "release" (the upstream failed) leaves the content owed for a next retry.
/// </summary>
public sealed class RedeemCharge : ICharge
{
    private readonly IPaymentStore _payments;
    private readonly X402Receipt _receipt;
    private int _concluded;

    private RedeemCharge(IPaymentStore payments, X402Receipt receipt)
    {
        _payments = payments;
        _receipt = receipt;
    }

    /// <summary>The settled payment whose content this request delivers.</summary>
    public PaymentRecord Payment => _receipt.Payment;

    public bool CapturesCompleteAnswersOnly => false;

    public bool AlreadyPaid => true;

    /// <summary>
    /// Claims the owed content for this request (one retry wins); null when the payment has not settled or another
    /// request claimed it. <paramref name="version"/> and <paramref name="network"/> are the retry's own.
    /// </summary>
    public static async Task<RedeemCharge?> ClaimAsync(IPaymentStore payments, PaymentRecord owed, int version, string network, CancellationToken cancellationToken)
    {
        if (owed.Status != PaymentStatus.Settled || !await payments.TrySetContentOwedAsync(owed.Id, false, cancellationToken))
        {
            return null;
        }
        return new RedeemCharge(payments, new X402Receipt(version, owed, network, owed.Transaction, Deferred: false));
    }

    public Task<ChargeCapture> CaptureAsync(CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _concluded, 1);
        return Task.FromResult(ChargeCapture.Captured(_receipt));
    }

    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _concluded, 1) == 0)
        {
            await _payments.TrySetContentOwedAsync(_receipt.Payment.Id, true, cancellationToken);
        }
    }
}
