using X402Serverless.Core.Chain;
using X402Serverless.Core.Facilitation;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;

namespace X402Serverless.Core.Settlement;

/// <summary>
/// A job whose authorization has run out: settled or failed if the chain shows it was used, expired only once the
/// chain says it was not; never settled late.
/// </summary>
internal sealed class SettlementExpiry(
    IPaymentStore store,
    AuthorizationLookup chain,
    TimeProvider time,
    RetryPolicy retry,
    SettlementLedger ledger)
{
    // Blocks are stamped by their producer's clock: a transaction may be mined a little after validBefore by ours.
    private const int ExpiryGraceSeconds = 60;

    public async Task<SettlementResult> ResolveAsync(PaymentRecord job, EvmNetwork network, AuthorizedTransfer transfer, CancellationToken cancellationToken)
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
        if (await ledger.ConcludeAsync(job, state, null, null, cancellationToken) is { } concluded)
        {
            return concluded;
        }
        return await ledger.ExpiredAsync(job, cancellationToken);
    }
}
