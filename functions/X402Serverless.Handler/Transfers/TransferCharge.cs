using X402Serverless.Core.Charges;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Transfers;

namespace X402Serverless.Handler.Transfers;

/// <summary>
/// A verified transfer whose hash this request holds. The money moved before the request came, so capture only
/// consumes the hash for good and records the payment (its settlement proof is the transaction itself); release
/// lets go of the hash so the payer can present it again (the upstream failed: nothing was bought).
/// </summary>
internal sealed class TransferCharge(
    ITransferClaimStore claims,
    IPaymentStore payments,
    TimeProvider time,
    PaymentRecord record,
    string owner) : ICharge
{
    private int _concluded;

    public PaymentRecord Payment => record;

    // Consuming the hash cannot be undone: wait for the whole answer, as for an on-chain settlement.
    public bool CapturesCompleteAnswersOnly => true;

    public bool AlreadyPaid => false;

    public async Task<ChargeCapture> CaptureAsync(CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _concluded, 1);
        var hash = record.Transaction!;
        if (!await claims.ConsumeAsync(hash, owner, record.Id, cancellationToken))
        {
            // The lease ran out during the call and another request took the hash: that one pays, this one is withheld.
            return new(CaptureKind.Refused, null, TransferReasons.ClaimLost,
                "This request's hold on the transaction ran out before the answer came; the transaction was not used by it.");
        }
        var now = time.GetUtcNow();
        // Consumed first: a crash from here on can lose the payment record, never let the hash pay twice.
        if (await payments.TryReserveAsync(record with { CreatedAt = now, UpdatedAt = now }, cancellationToken))
        {
            await payments.MarkSettledAsync(record.Id, hash, now, cancellationToken);
        }
        var settled = record with { Status = PaymentStatus.Settled, CreatedAt = now, UpdatedAt = now };
        return ChargeCapture.Captured(new X402Receipt(record.X402Version, settled, record.Network, hash, Deferred: false));
    }

    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _concluded, 1) == 0)
        {
            await claims.ReleaseAsync(record.Transaction!, owner, cancellationToken);
        }
    }
}
