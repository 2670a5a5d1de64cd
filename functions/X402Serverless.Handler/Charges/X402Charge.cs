using X402Serverless.Core.Charges;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Settlement;
using X402Serverless.Handler.Settlement;

namespace X402Serverless.Handler.Charges;

/// <summary>
/// A verified EIP-3009 authorization whose nonce is reserved. Capture settles it: sync, inline before any content
/// (the x402 default); deferred, as a durable job written before the payer sees a byte. Release frees the nonce.
/// Lives in the Handler because capture hands jobs to <see cref="JobQueues"/> and is bounded by the host's settlement options.
/// </summary>
internal sealed class X402Charge(
    PaymentRecord record,
    X402Receipt receipt,
    bool owesContent,
    IPaymentStore payments,
    SettlementProcessor settlement,
    JobQueues queues,
    TimeProvider time,
    TimeSpan inlineTimeout) : ICharge
{
    private int _concluded;

    public PaymentRecord Payment => record;

    public bool CapturesCompleteAnswersOnly => record.Mode != SettlementModes.Deferred;

    public bool AlreadyPaid => false;

    public async Task<ChargeCapture> CaptureAsync(CancellationToken cancellationToken)
    {
        // From here settlement owns the payment (the transfer may be in flight): the request never frees it again.
        Interlocked.Exchange(ref _concluded, 1);
        if (record.Mode == SettlementModes.Deferred)
        {
            await payments.AdvanceAsync(record.Id, PaymentStatus.Pending, time.GetUtcNow(), cancellationToken);
            await queues.SettlementAsync(record.Id);
            return ChargeCapture.Captured(receipt with { Deferred = true });
        }

        // Settlement runs to completion even if the payer disconnects: bounded by its own timeout only.
        await payments.AdvanceAsync(record.Id, PaymentStatus.Settling, time.GetUtcNow(), cancellationToken);
        using var timeout = new CancellationTokenSource(inlineTimeout);
        // Its webhook event is stored before its outcome; no store round trip unless the organisation has an endpoint for it.
        var result = await settlement.RunAsync(record with { Status = PaymentStatus.Settling }, inline: true, timeout.Token);
        switch (result.Kind)
        {
            case SettlementOutcomeKind.Settled:
                return ChargeCapture.Captured(receipt with { Transaction = result.Transaction });
            case SettlementOutcomeKind.Failed:
                return new(CaptureKind.Refused, receipt with { ErrorReason = result.Reason, ErrorMessage = result.Message }, result.Reason, result.Message);
            case SettlementOutcomeKind.Released:
                return new(CaptureKind.Unavailable, receipt, result.Reason, result.Message);
            default:
                if (owesContent)
                {
                    // The transaction may still land: the payment owes its content, redeemed by retrying it once settled.
                    await payments.TrySetContentOwedAsync(record.Id, true, cancellationToken);
                }
                return new(CaptureKind.Pending, receipt, result.Reason, result.Message);
        }
    }

    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _concluded, 1) == 0)
        {
            await payments.ReleaseAsync(record.Id, cancellationToken);
        }
    }
}
