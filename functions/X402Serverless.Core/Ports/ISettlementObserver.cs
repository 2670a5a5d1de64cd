using X402Serverless.Core.Payments;
using X402Serverless.Core.Settlement;

namespace X402Serverless.Core.Ports;

/// <summary>
/// Told a settlement's final outcome (settled, failed, expired) before the store records it, so what it derives (a
/// webhook event) is stored first: a crash in between leaves the job unfinished, its re-run tells this again, and an
/// observer must therefore be idempotent. A throw leaves the outcome unrecorded and the job to be run again.
/// </summary>
public interface ISettlementObserver
{
    Task ConcludingAsync(PaymentRecord payment, SettlementResult result, CancellationToken cancellationToken);
}
