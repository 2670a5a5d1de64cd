using X402Serverless.Core.Chain;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Protocol;

namespace X402Serverless.Core.Facilitation;

/// <summary>
/// Waits for the receipt of a settlement transaction the gas wallet sent, up to the configured timeout: asked at once
/// (a chain that mines on arrival has it already), then at growing intervals capped at the poll interval. A wait that
/// runs past <see cref="BuiltInFacilitatorOptions.GapCheckInterval"/>, and one that times out, has the sender look for a
/// nonce the node dropped, which would otherwise hold this transaction and every later one out of blocks. Waits on one
/// batch transaction share their receipt reads (<see cref="SharedReceipts"/>), each judging its own transfer.
/// </summary>
internal sealed class ReceiptWatch(TimeProvider time, BuiltInFacilitatorOptions options)
{
    private readonly SharedReceipts _receipts = new(time, options);

    /// <param name="shared">The transaction may carry other settlements (a batch): its receipt reads are shared with their waits.</param>
    public async Task<SettleOutcome> AwaitAsync(GasWalletSender sender, AuthorizationLookup lookup, EvmRpcClient rpc, EvmNetwork network, DecodedPayment payment, string hash,
        CancellationToken cancellationToken, bool shared = false)
    {
        Func<EvmRpcClient, string, CancellationToken, Task<Chain.TransactionReceipt?>>? receiptOf = shared
            ? (r, h, c) => _receipts.GetAsync(r, network.ChainId, h, c)
            : null;
        var transfer = AuthorizedTransfer.Of(payment);
        var start = time.GetUtcNow();
        var deadline = start + options.ReceiptTimeout;
        var wait = options.ReceiptFirstPoll;
        while (time.GetUtcNow() < deadline)
        {
            // Our own transaction's receipt, checked for the transfer all the same; if it reverted because the nonce
            // was used first (by the payer's own resubmission, or burned), the chain says which. A stuck transaction
            // the sender replaced at higher fees is followed, the first one still asked for: either may be mined.
            foreach (var sent in sender.Lineage(network.ChainId, hash))
            {
                if (await lookup.ConfirmAsync(network, sent, transfer, receiptOf, cancellationToken) is { } state)
                {
                    sender.Confirmed(network.ChainId, sent);
                    return state.Use == AuthorizationUse.Unused
                        ? new SettleOutcome(true, false, sent, network.Id, payment.Authorization.From.ToString(), ReasonCodes.TransactionFailed, "The settlement transaction reverted.")
                        : BuiltInOutcomes.Concluded(state, network, payment);
                }
            }
            if (time.GetUtcNow() - start >= options.GapCheckInterval)
            {
                await sender.CloseGapsAsync(rpc, network, cancellationToken);
            }
            await Task.Delay(wait, time, cancellationToken);
            wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, options.ReceiptPollInterval.Ticks));
        }
        // Pending: if a dropped nonce holds it back, the retry finds it sent again.
        await sender.CloseGapsAsync(rpc, network, cancellationToken);
        return new SettleOutcome(false, false, sender.Lineage(network.ChainId, hash)[0], network.Id, payment.Authorization.From.ToString(), BuiltInFacilitator.SettlementPending, "The settlement transaction is not mined yet.");
    }
}
