using X402Serverless.Core.Chain;
using X402Serverless.Core.Facilitation;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;

namespace X402Serverless.Core.Settlement;

/// <summary>
/// A remote facilitator says settled: cross-checked on chain when the network has an RPC (without one, the
/// facilitator is trusted).
/// </summary>
internal sealed class RemoteSettlementCheck(
    IPaymentStore store,
    AuthorizationLookup chain,
    TimeProvider time,
    ConfirmationWait confirmation,
    SettlementLedger ledger)
{
    public async Task<SettlementResult> ConfirmAsync(PaymentRecord job, EvmNetwork network, AuthorizedTransfer transfer, SettleOutcome outcome,
        bool inline, CancellationToken cancellationToken)
    {
        var claimed = outcome.Transaction!;
        if (!chain.CanLookUp(network))
        {
            return await ledger.SettledAsync(job, claimed, outcome, cancellationToken);
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
            return await ledger.RetryOrReleaseAsync(job, inline, BuiltInFacilitator.RpcUnavailable, e.Message, claimed, outcome, cancellationToken);
        }
        // Not mined on our node yet, or the nonce is still unused: not settled; the job looks again (and the
        // authorization expires unpaid if nothing ever lands).
        return await ledger.ConcludeAsync(job, state, "The facilitator reported a transaction that does not carry this authorization's transfer.", outcome, cancellationToken)
            ?? await ledger.RetryOrReleaseAsync(job, inline, BuiltInFacilitator.SettlementPending,
                "The facilitator's transaction is not visible on chain yet.", claimed, outcome, cancellationToken);
    }
}
