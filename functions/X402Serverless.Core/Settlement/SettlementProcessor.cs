using System.Globalization;
using System.Numerics;
using X402Serverless.Core.Chain;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Facilitation;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Protocol;

namespace X402Serverless.Core.Settlement;

/// <summary>
/// Runs one settlement job to its next state. Idempotent by payment id: the chain says whether the authorization
/// was already paid, so a job retried after a crash or a redelivery never settles twice; a job whose authorization
/// has run out is expired, never settled late. A payment is settled only when the chain shows this authorization's
/// own transfer; a nonce used by anything else fails it (<see cref="ReasonCodes.AuthorizationConsumedElsewhere"/>).
/// </summary>
public sealed class SettlementProcessor(
    IPaymentStore store,
    FacilitatorCatalog facilitators,
    NetworkRegistry networks,
    AuthorizationLookup chain,
    TimeProvider time,
    RetryPolicy retry,
    ConfirmationWait confirmation)
{
    // Blocks are stamped by their producer's clock: a transaction may be mined a little after validBefore by ours.
    private const int ExpiryGraceSeconds = 60;

    /// <param name="inline">A sync request settling before it answers: on a passing failure with nothing broadcast,
    /// the authorization is freed (the payer gets no content, so must not be charged later).</param>
    public async Task<SettlementResult> RunAsync(PaymentRecord job, bool inline, CancellationToken cancellationToken)
    {
        if (job.SettleRequest is null || !networks.TryGet(job.Network, out var network))
        {
            await store.MarkFailedAsync(job.Id, "settlement_unconfigured", time.GetUtcNow(), cancellationToken);
            return new(SettlementOutcomeKind.Failed, null, "settlement_unconfigured", "The job's network is no longer configured.", null);
        }
        var transfer = TransferOf(job);

        if (time.GetUtcNow().ToUnixTimeSeconds() >= job.ValidBefore - PaymentVerifier.ValidBeforeBufferSeconds)
        {
            return await ResolveExpiredAsync(job, network, transfer, cancellationToken);
        }

        // A transaction already recorded for this job (ours, or one a facilitator named) is the first place to look.
        if (job.Transaction is not null
            && await ConcludeAsync(job, await AskChainAsync(network, () => chain.ConfirmAsync(network, job.Transaction, transfer, cancellationToken)), null, null, cancellationToken) is { } known)
        {
            return known;
        }

        var request = SettleRequestJson.Read(job.SettleRequest) with
        {
            OnSubmitted = tx => store.RecordSubmittedAsync(job.Id, tx, time.GetUtcNow(), CancellationToken.None),
        };
        var facilitator = facilitators.Get(job.Facilitator);
        var outcome = await facilitator.SettleAsync(request, cancellationToken);
        if (outcome.Success && !string.IsNullOrEmpty(outcome.Transaction))
        {
            // The built-in facilitator proved the transfer from the receipt itself.
            return facilitator is BuiltInFacilitator
                ? await SettledAsync(job, outcome.Transaction, outcome, cancellationToken)
                : await ConfirmAsync(job, network, transfer, outcome, inline, cancellationToken);
        }
        if (outcome.Reached)
        {
            // A refusal may hide a settled payment (a remote facilitator refuses a retry whose first attempt landed)
            // or a burned nonce: the chain tells which, and the facilitator's reason stands otherwise. A refusal that
            // names a transaction not mined yet is no verdict: that transaction may still pay.
            AuthorizationState? state;
            if (!string.IsNullOrEmpty(outcome.Transaction) && chain.CanLookUp(network))
            {
                // What the named transaction shows already includes the nonce's own history when it shows no transfer.
                state = await AskChainAsync(network, () => chain.ConfirmAsync(network, outcome.Transaction, transfer, cancellationToken));
                if (state is null)
                {
                    return await RetryOrReleaseAsync(job, inline, BuiltInFacilitator.SettlementPending, outcome.ErrorMessage, outcome.Transaction, outcome, cancellationToken);
                }
            }
            else
            {
                state = await AskChainAsync(network, async () => await chain.FindAsync(network, transfer, cancellationToken));
            }
            return await ConcludeAsync(job, state, outcome.ErrorMessage, outcome, cancellationToken)
                ?? await FailedAsync(job, outcome.ErrorReason ?? ReasonCodes.SettlementFailed, outcome.ErrorMessage, outcome, cancellationToken);
        }
        return await RetryOrReleaseAsync(job, inline, outcome.ErrorReason ?? ReasonCodes.FacilitatorUnavailable, outcome.ErrorMessage,
            outcome.Transaction, outcome, cancellationToken);
    }

    /// <summary>
    /// A Reserved or Settling payment whose request died: if the authorization was paid it is settled (the money moved),
    /// if its nonce was used otherwise it failed, if something was broadcast it becomes a job to confirm, otherwise it
    /// is freed. Its request never delivered the content, so a payment that ends settled owes it: the payer retries
    /// with the same payment and gets it once.
    /// </summary>
    public async Task RecoverAsync(PaymentRecord stale, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await store.TrySetContentOwedAsync(stale.Id, true, cancellationToken);
        if (stale.Transaction is not null)
        {
            await store.ScheduleRetryAsync(stale.Id, stale.Attempts, now, "recovered_after_restart", now, cancellationToken);
            return;
        }
        if (networks.TryGet(stale.Network, out var network) && chain.CanLookUp(network))
        {
            AuthorizationState state;
            try
            {
                state = await chain.FindAsync(network, TransferOf(stale), cancellationToken);
            }
            catch (RpcUnavailableException)
            {
                return; // cannot tell whether it landed: leave it for the next pass
            }
            if (await ConcludeAsync(stale, state, null, null, cancellationToken) is not null)
            {
                return;
            }
        }
        await store.ReleaseAsync(stale.Id, cancellationToken);
    }

    /// <summary>
    /// A remote facilitator says settled: cross-checked on chain when the network has an RPC (without one, the
    /// facilitator is trusted).
    /// </summary>
    private async Task<SettlementResult> ConfirmAsync(PaymentRecord job, EvmNetwork network, AuthorizedTransfer transfer, SettleOutcome outcome,
        bool inline, CancellationToken cancellationToken)
    {
        var claimed = outcome.Transaction!;
        if (!chain.CanLookUp(network))
        {
            return await SettledAsync(job, claimed, outcome, cancellationToken);
        }
        await store.RecordSubmittedAsync(job.Id, claimed, time.GetUtcNow(), CancellationToken.None);
        AuthorizationState? state;
        try
        {
            var deadline = time.GetUtcNow() + confirmation.Timeout;
            while ((state = await chain.ConfirmAsync(network, claimed, transfer, cancellationToken)) is null && time.GetUtcNow() < deadline)
            {
                await Task.Delay(confirmation.Poll, time, cancellationToken);
            }
        }
        catch (RpcUnavailableException e)
        {
            return await RetryOrReleaseAsync(job, inline, BuiltInFacilitator.RpcUnavailable, e.Message, claimed, outcome, cancellationToken);
        }
        // Not mined on our node yet, or the nonce is still unused: not settled; the job looks again (and the
        // authorization expires unpaid if nothing ever lands).
        return await ConcludeAsync(job, state, "The facilitator reported a transaction that does not carry this authorization's transfer.", outcome, cancellationToken)
            ?? await RetryOrReleaseAsync(job, inline, BuiltInFacilitator.SettlementPending,
                "The facilitator's transaction is not visible on chain yet.", claimed, outcome, cancellationToken);
    }

    private async Task<SettlementResult> SettledAsync(PaymentRecord job, string transaction, SettleOutcome? outcome, CancellationToken cancellationToken)
    {
        await store.MarkSettledAsync(job.Id, transaction, time.GetUtcNow(), cancellationToken);
        return new(SettlementOutcomeKind.Settled, transaction, null, null, outcome is null ? null : outcome with { Transaction = transaction });
    }

    private async Task<SettlementResult> FailedAsync(PaymentRecord job, string reason, string? message, SettleOutcome? outcome, CancellationToken cancellationToken)
    {
        await store.MarkFailedAsync(job.Id, reason, time.GetUtcNow(), cancellationToken);
        return new(SettlementOutcomeKind.Failed, null, reason, message, outcome);
    }

    private async Task<SettlementResult> RetryOrReleaseAsync(PaymentRecord job, bool inline, string error, string? message, string? transaction,
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

    private async Task<SettlementResult> ResolveExpiredAsync(PaymentRecord job, EvmNetwork network, AuthorizedTransfer transfer, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        AuthorizationState? state = null;
        try
        {
            if (job.Transaction is not null && chain.CanLookUp(network))
            {
                state = await chain.ConfirmAsync(network, job.Transaction, transfer, cancellationToken);
                if (state is null && now.ToUnixTimeSeconds() < job.ValidBefore + ExpiryGraceSeconds)
                {
                    // A recorded transaction not mined yet can still land until blocks pass validBefore: not expired yet.
                    throw new RpcUnavailableException("The recorded settlement transaction is not mined yet.");
                }
            }
            state ??= chain.CanLookUp(network) ? await chain.FindAsync(network, transfer, cancellationToken) : AuthorizationState.Unused;
        }
        catch (RpcUnavailableException e)
        {
            // Expired is a verdict about the chain: the authorization may have been paid by anyone before it ran out
            // (the payer, a facilitator that timed out on us), so without the chain's word the job waits and asks again.
            var attempts = job.Attempts + 1;
            await store.ScheduleRetryAsync(job.Id, attempts, now + retry.Delay(attempts), BuiltInFacilitator.RpcUnavailable, now, cancellationToken);
            return new(SettlementOutcomeKind.Retrying, job.Transaction, BuiltInFacilitator.RpcUnavailable, e.Message, null);
        }
        if (await ConcludeAsync(job, state, null, null, cancellationToken) is { } concluded)
        {
            return concluded;
        }
        await store.MarkExpiredAsync(job.Id, now, cancellationToken);
        return new(SettlementOutcomeKind.Expired, null, "authorization_expired", null, null);
    }

    /// <summary>
    /// Applies the chain's verdict: this authorization's transfer settles the payment, a nonce used otherwise fails it.
    /// Null when there is no verdict (unused, or unknown): the caller decides what that means for it.
    /// </summary>
    private async Task<SettlementResult?> ConcludeAsync(PaymentRecord job, AuthorizationState? state, string? failureMessage, SettleOutcome? outcome,
        CancellationToken cancellationToken) =>
        state?.Use switch
        {
            AuthorizationUse.Transferred => await SettledAsync(job, state.Transaction!, outcome, cancellationToken),
            AuthorizationUse.ConsumedElsewhere => await FailedAsync(job, ReasonCodes.AuthorizationConsumedElsewhere, failureMessage, outcome, cancellationToken),
            _ => null,
        };

    /// <summary>The chain's answer, or null when the network has no RPC, the node cannot answer now, or (for a named transaction) it is not mined.</summary>
    private async Task<AuthorizationState?> AskChainAsync(EvmNetwork network, Func<Task<AuthorizationState?>> ask)
    {
        if (!chain.CanLookUp(network))
        {
            return null;
        }
        try
        {
            return await ask();
        }
        catch (RpcUnavailableException)
        {
            return null;
        }
    }

    /// <summary>The transfer the reserved payment promised: its payer, recipient, exact amount and nonce, as verified.</summary>
    private static AuthorizedTransfer TransferOf(PaymentRecord job) =>
        new(EvmAddress.Parse(job.Payer), EvmAddress.Parse(job.PayTo), job.Amount.Units, Hex.Decode(job.Nonce));
}
