using X402Serverless.Core.Chain;
using X402Serverless.Core.Facilitation;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Protocol;

namespace X402Serverless.Core.Settlement;

/// <summary>
/// Writes a settlement job's next state to the store and reports it: settled, failed, retrying or released.
/// Every path of <see cref="SettlementProcessor"/> ends here, so a state and its result never disagree. A final
/// outcome is told to the observer before it is written: until the write, the job is unfinished and runs again.
/// </summary>
internal sealed class SettlementLedger(IPaymentStore store, TimeProvider time, RetryPolicy retry, ISettlementObserver? observer)
{
    public async Task<SettlementResult> SettledAsync(PaymentRecord job, string transaction, SettleOutcome? outcome, CancellationToken cancellationToken)
    {
        var result = new SettlementResult(SettlementOutcomeKind.Settled, transaction, null, null, outcome is null ? null : outcome with { Transaction = transaction });
        await ConcludingAsync(job, result);
        await store.MarkSettledAsync(job.Id, transaction, time.GetUtcNow(), cancellationToken);
        return result;
    }

    public async Task<SettlementResult> FailedAsync(PaymentRecord job, string reason, string? message, SettleOutcome? outcome, CancellationToken cancellationToken)
    {
        var result = new SettlementResult(SettlementOutcomeKind.Failed, null, reason, message, outcome);
        await ConcludingAsync(job, result);
        await store.MarkFailedAsync(job.Id, reason, time.GetUtcNow(), cancellationToken);
        return result;
    }

    public async Task<SettlementResult> ExpiredAsync(PaymentRecord job, CancellationToken cancellationToken)
    {
        var result = new SettlementResult(SettlementOutcomeKind.Expired, null, "authorization_expired", null, null);
        await ConcludingAsync(job, result);
        await store.MarkExpiredAsync(job.Id, time.GetUtcNow(), cancellationToken);
        return result;
    }

    // Not cancelled with the job: the outcome is decided on chain, and what it reports must be kept.
    private Task ConcludingAsync(PaymentRecord job, SettlementResult result) =>
        observer?.ConcludingAsync(job, result, CancellationToken.None) ?? Task.CompletedTask;

    /// <summary>
    /// A passing failure: an inline job with nothing broadcast frees the authorization (the payer gets no content, so
    /// must not be charged later); otherwise the job is scheduled to run again.
    /// </summary>
    public async Task<SettlementResult> RetryOrReleaseAsync(PaymentRecord job, bool inline, string error, string? message, string? transaction,
        SettleOutcome outcome, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var broadcast = transaction ?? (await store.GetAsync(job.Id, cancellationToken))?.Transaction;
        if (inline && broadcast is null)
        {
            await store.ReleaseAsync(job.Id, cancellationToken);
            return new(SettlementOutcomeKind.Released, null, error, message, outcome);
        }
        var attempts = job.Attempts + 1;
        await store.ScheduleRetryAsync(job.Id, attempts, now + retry.Delay(attempts), error, now, cancellationToken);
        return new(SettlementOutcomeKind.Retrying, broadcast, error, message, outcome);
    }

    /// <summary>
    /// Applies the chain's verdict: this authorization's transfer settles the payment, a nonce used otherwise fails it.
    /// Null when there is no verdict (unused, or unknown): the caller decides what that means for it.
    /// </summary>
    public async Task<SettlementResult?> ConcludeAsync(PaymentRecord job, AuthorizationState? state, string? failureMessage, SettleOutcome? outcome,
        CancellationToken cancellationToken) =>
        state?.Use switch
        {
            AuthorizationUse.Transferred => await SettledAsync(job, state.Transaction!, outcome, cancellationToken),
            AuthorizationUse.ConsumedElsewhere => await FailedAsync(job, ReasonCodes.AuthorizationConsumedElsewhere, failureMessage, outcome, cancellationToken),
            _ => null,
        };
}
