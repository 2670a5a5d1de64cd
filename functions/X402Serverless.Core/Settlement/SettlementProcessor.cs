using X402Serverless.Core.Chain;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Protocol;

namespace X402Serverless.Core.Settlement;

/// <summary>
/// Runs one settlement job to its next state. Idempotent by payment id: the chain says whether the authorization
/// was already used, so a job retried after a crash or a redelivery never settles twice; a job whose authorization
/// has run out is expired, never settled late.
/// </summary>
public sealed class SettlementProcessor(
    IPaymentStore store,
    FacilitatorCatalog facilitators,
    NetworkRegistry networks,
    AuthorizationLookup chain,
    TimeProvider time,
    RetryPolicy retry)
{
    /// <param name="inline">A sync request settling before it answers: on a passing failure with nothing broadcast,
    /// the authorization is freed (the payer gets no content, so must not be charged later).</param>
    public async Task<SettlementResult> RunAsync(PaymentRecord job, bool inline, CancellationToken cancellationToken)
    {
        if (job.SettleRequest is null || !networks.TryGet(job.Network, out var network))
        {
            await store.MarkFailedAsync(job.Id, "settlement_unconfigured", time.GetUtcNow(), cancellationToken);
            return new(SettlementOutcomeKind.Failed, null, "settlement_unconfigured", "The job's network is no longer configured.", null);
        }
        var from = EvmAddress.Parse(job.Payer);
        var nonce = Hex.Decode(job.Nonce);

        if (time.GetUtcNow().ToUnixTimeSeconds() >= job.ValidBefore - PaymentVerifier.ValidBeforeBufferSeconds)
        {
            return await ResolveExpiredAsync(job, network, from, nonce, cancellationToken);
        }

        var request = SettleRequestJson.Read(job.SettleRequest) with
        {
            OnSubmitted = tx => store.RecordSubmittedAsync(job.Id, tx, time.GetUtcNow(), CancellationToken.None),
        };
        var outcome = await facilitators.Get(job.Facilitator).SettleAsync(request, cancellationToken);
        var now = time.GetUtcNow();
        if (outcome.Success && !string.IsNullOrEmpty(outcome.Transaction))
        {
            await store.MarkSettledAsync(job.Id, outcome.Transaction, now, cancellationToken);
            return new(SettlementOutcomeKind.Settled, outcome.Transaction, null, null, outcome);
        }
        if (outcome.Reached)
        {
            // A remote facilitator refuses a retry whose first attempt landed; the chain tells the truth.
            if (outcome.ErrorReason == ReasonCodes.NonceAlreadyUsed && await TryFindAsync(network, from, nonce, cancellationToken) is { Length: > 0 } landed)
            {
                await store.MarkSettledAsync(job.Id, landed, now, cancellationToken);
                return new(SettlementOutcomeKind.Settled, landed, null, null, outcome);
            }
            var reason = outcome.ErrorReason ?? ReasonCodes.SettlementFailed;
            await store.MarkFailedAsync(job.Id, reason, now, cancellationToken);
            return new(SettlementOutcomeKind.Failed, outcome.Transaction, reason, outcome.ErrorMessage, outcome);
        }

        var error = outcome.ErrorReason ?? ReasonCodes.FacilitatorUnavailable;
        var broadcast = outcome.Transaction ?? (await store.GetAsync(job.Id, cancellationToken))?.Transaction;
        if (inline && broadcast is null)
        {
            await store.ReleaseAsync(job.Id, cancellationToken);
            return new(SettlementOutcomeKind.Released, null, error, outcome.ErrorMessage, outcome);
        }
        var attempts = job.Attempts + 1;
        await store.ScheduleRetryAsync(job.Id, attempts, now + retry.Delay(attempts), error, now, cancellationToken);
        return new(SettlementOutcomeKind.Retrying, broadcast, error, outcome.ErrorMessage, outcome);
    }

    /// <summary>
    /// A Reserved or Settling payment whose request died: if the authorization landed it is settled (the money moved),
    /// if something was broadcast it becomes a job to confirm, otherwise it is freed. Its request never delivered the
    /// content, so a payment that ends settled owes it: the payer retries with the same payment and gets it once.
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
            string? landed;
            try
            {
                landed = await chain.FindAsync(network, EvmAddress.Parse(stale.Payer), Hex.Decode(stale.Nonce), cancellationToken);
            }
            catch (RpcUnavailableException)
            {
                return; // cannot tell whether it landed: leave it for the next pass
            }
            if (!string.IsNullOrEmpty(landed))
            {
                await store.MarkSettledAsync(stale.Id, landed, now, cancellationToken);
                return;
            }
        }
        await store.ReleaseAsync(stale.Id, cancellationToken);
    }

    private async Task<SettlementResult> ResolveExpiredAsync(PaymentRecord job, EvmNetwork network, EvmAddress from, byte[] nonce, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        string? landed;
        try
        {
            landed = chain.CanLookUp(network) ? await chain.FindAsync(network, from, nonce, cancellationToken) : null;
        }
        catch (RpcUnavailableException e)
        {
            if (job.Transaction is null)
            {
                // Nothing of ours was broadcast and the window is closed: nobody can settle it any more.
                await store.MarkExpiredAsync(job.Id, now, cancellationToken);
                return new(SettlementOutcomeKind.Expired, null, "authorization_expired", null, null);
            }
            var attempts = job.Attempts + 1;
            await store.ScheduleRetryAsync(job.Id, attempts, now + retry.Delay(attempts), Facilitation.BuiltInFacilitator.RpcUnavailable, now, cancellationToken);
            return new(SettlementOutcomeKind.Retrying, job.Transaction, Facilitation.BuiltInFacilitator.RpcUnavailable, e.Message, null);
        }
        if (!string.IsNullOrEmpty(landed))
        {
            await store.MarkSettledAsync(job.Id, landed, now, cancellationToken);
            return new(SettlementOutcomeKind.Settled, landed, null, null, null);
        }
        await store.MarkExpiredAsync(job.Id, now, cancellationToken);
        return new(SettlementOutcomeKind.Expired, null, "authorization_expired", null, null);
    }

    private async Task<string?> TryFindAsync(EvmNetwork network, EvmAddress from, byte[] nonce, CancellationToken cancellationToken)
    {
        if (!chain.CanLookUp(network))
        {
            return null;
        }
        try
        {
            return await chain.FindAsync(network, from, nonce, cancellationToken);
        }
        catch (RpcUnavailableException)
        {
            return null;
        }
    }
}
