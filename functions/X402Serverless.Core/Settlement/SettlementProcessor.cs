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
public sealed class SettlementProcessor
{
    private readonly IPaymentStore _store;
    private readonly FacilitatorCatalog _facilitators;
    private readonly NetworkRegistry _networks;
    private readonly AuthorizationLookup _chain;
    private readonly TimeProvider _time;
    private readonly SettlementLedger _ledger;
    private readonly RemoteSettlementCheck _remoteCheck;
    private readonly SettlementExpiry _expiry;

    public SettlementProcessor(
        IPaymentStore store,
        FacilitatorCatalog facilitators,
        NetworkRegistry networks,
        AuthorizationLookup chain,
        TimeProvider time,
        RetryPolicy retry,
        ConfirmationWait confirmation,
        ISettlementObserver? observer = null)
    {
        _store = store;
        _facilitators = facilitators;
        _networks = networks;
        _chain = chain;
        _time = time;
        _ledger = new SettlementLedger(store, time, retry, observer);
        _remoteCheck = new RemoteSettlementCheck(store, chain, time, confirmation, _ledger);
        _expiry = new SettlementExpiry(store, chain, time, retry, _ledger);
    }

    /// <param name="inline">A sync request settling before it answers: on a passing failure with nothing broadcast,
    /// the authorization is freed (the payer gets no content, so must not be charged later).</param>
    public async Task<SettlementResult> RunAsync(PaymentRecord job, bool inline, CancellationToken cancellationToken)
    {
        if (job.SettleRequest is null || !_networks.TryGet(job.Network, out var network))
        {
            return await _ledger.FailedAsync(job, "settlement_unconfigured", "The job's network is no longer configured.", null, cancellationToken);
        }
        var transfer = TransferOf(job);

        if (_time.GetUtcNow().ToUnixTimeSeconds() >= job.ValidBefore - PaymentVerifier.ValidBeforeBufferSeconds)
        {
            return await _expiry.ResolveAsync(job, network, transfer, cancellationToken);
        }

        // A transaction already recorded for this job (ours, or one a facilitator named) is the first place to look.
        if (job.Transaction is not null
            && await _ledger.ConcludeAsync(job, await _chain.AskAsync(network, () => _chain.ConfirmAsync(network, job.Transaction, transfer, cancellationToken)), null, null, cancellationToken) is { } known)
        {
            return known;
        }

        var request = SettleRequestJson.Read(job.SettleRequest) with
        {
            OnSubmitted = tx => _store.RecordSubmittedAsync(job.Id, tx, _time.GetUtcNow(), CancellationToken.None),
        };
        var facilitator = _facilitators.Get(job.Facilitator);
        var outcome = await facilitator.SettleAsync(request, cancellationToken);
        if (outcome.Success && !string.IsNullOrEmpty(outcome.Transaction))
        {
            // The built-in facilitator proved the transfer from the receipt itself.
            return facilitator is BuiltInFacilitator
                ? await _ledger.SettledAsync(job, outcome.Transaction, outcome, cancellationToken)
                : await _remoteCheck.ConfirmAsync(job, network, transfer, outcome, inline, cancellationToken);
        }
        if (outcome.Reached)
        {
            return await RefusedAsync(job, network, transfer, outcome, inline, cancellationToken);
        }
        return await _ledger.RetryOrReleaseAsync(job, inline, outcome.ErrorReason ?? ReasonCodes.FacilitatorUnavailable, outcome.ErrorMessage,
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
        var now = _time.GetUtcNow();
        await _store.TrySetContentOwedAsync(stale.Id, true, cancellationToken);
        if (stale.Transaction is not null)
        {
            await _store.ScheduleRetryAsync(stale.Id, stale.Attempts, now, "recovered_after_restart", now, cancellationToken);
            return;
        }
        if (_networks.TryGet(stale.Network, out var network) && _chain.CanLookUp(network))
        {
            AuthorizationState state;
            try
            {
                state = await _chain.FindAsync(network, TransferOf(stale), cancellationToken);
            }
            catch (RpcUnavailableException)
            {
                return; // cannot tell whether it landed: leave it for the next pass
            }
            if (await _ledger.ConcludeAsync(stale, state, null, null, cancellationToken) is not null)
            {
                return;
            }
        }
        await _store.ReleaseAsync(stale.Id, cancellationToken);
    }

    /// <summary>
    /// A refusal may hide a settled payment (a remote facilitator refuses a retry whose first attempt landed)
    /// or a burned nonce: the chain tells which, and the facilitator's reason stands otherwise. A refusal that
    /// names a transaction not mined yet is no verdict: that transaction may still pay.
    /// </summary>
    private async Task<SettlementResult> RefusedAsync(PaymentRecord job, EvmNetwork network, AuthorizedTransfer transfer, SettleOutcome outcome,
        bool inline, CancellationToken cancellationToken)
    {
        AuthorizationState? state;
        if (!string.IsNullOrEmpty(outcome.Transaction) && _chain.CanLookUp(network))
        {
            // What the named transaction shows already includes the nonce's own history when it shows no transfer.
            state = await _chain.AskAsync(network, () => _chain.ConfirmAsync(network, outcome.Transaction, transfer, cancellationToken));
            if (state is null)
            {
                return await _ledger.RetryOrReleaseAsync(job, inline, BuiltInFacilitator.SettlementPending, outcome.ErrorMessage, outcome.Transaction, outcome, cancellationToken);
            }
        }
        else
        {
            state = await _chain.AskAsync(network, async () => await _chain.FindAsync(network, transfer, cancellationToken));
        }
        return await _ledger.ConcludeAsync(job, state, outcome.ErrorMessage, outcome, cancellationToken)
            ?? await _ledger.FailedAsync(job, outcome.ErrorReason ?? ReasonCodes.SettlementFailed, outcome.ErrorMessage, outcome, cancellationToken);
    }

    /// <summary>The transfer the reserved payment promised: its payer, recipient, exact amount and nonce, as verified.</summary>
    private static AuthorizedTransfer TransferOf(PaymentRecord job) =>
        job.SettleRequest is { } request && SettleRequestJson.IsPermit2(request)
            // A Permit2 payment's validBefore is its deadline + 1 (the shape every payment presents).
            ? new(EvmAddress.Parse(job.Payer), EvmAddress.Parse(job.PayTo), job.Amount.Units, Hex.Decode(job.Nonce)) { Permit2 = true, Deadline = job.ValidBefore - 1 }
            : new(EvmAddress.Parse(job.Payer), EvmAddress.Parse(job.PayTo), job.Amount.Units, Hex.Decode(job.Nonce));
}
