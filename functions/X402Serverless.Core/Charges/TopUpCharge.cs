using X402Serverless.Core.Credits;
using X402Serverless.Core.Payments;

namespace X402Serverless.Core.Charges;

/// <summary>
/// A USDC top-up: an x402 charge whose capture also posts the credits it paid for. Credits follow only a settled
/// transfer; a crash between the two is caught up by <see cref="UsdcTopUps.ReconcileAsync"/>.
/// </summary>
public sealed class TopUpCharge(ICharge payment, UsdcTopUps topUps) : ICharge
{
    public bool CapturesCompleteAnswersOnly => payment.CapturesCompleteAnswersOnly;

    public bool AlreadyPaid => payment.AlreadyPaid;

    public async Task<ChargeCapture> CaptureAsync(CancellationToken cancellationToken)
    {
        var capture = await payment.CaptureAsync(cancellationToken);
        if (capture is { Kind: CaptureKind.Captured, Receipt: X402Receipt { Transaction: { } transaction } receipt })
        {
            await topUps.CreditAsync(receipt.Payment with { Status = PaymentStatus.Settled, Transaction = transaction }, cancellationToken);
        }
        return capture;
    }

    public Task ReleaseAsync(CancellationToken cancellationToken) => payment.ReleaseAsync(cancellationToken);
}
