using X402Serverless.Core.Chain;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Protocol;

namespace X402Serverless.Core.Facilitation;

/// <summary>
/// Waits for the receipt of a settlement transaction the gas wallet sent, up to the configured timeout: asked at once
/// (a chain that mines on arrival has it already), then at growing intervals capped at the poll interval.
/// </summary>
internal sealed class ReceiptWatch(TimeProvider time, BuiltInFacilitatorOptions options)
{
    public async Task<SettleOutcome> AwaitAsync(AuthorizationLookup lookup, EvmNetwork network, DecodedPayment payment, string hash, CancellationToken cancellationToken)
    {
        var transfer = AuthorizedTransfer.Of(payment.Authorization);
        var deadline = time.GetUtcNow() + options.ReceiptTimeout;
        var wait = options.ReceiptFirstPoll;
        while (time.GetUtcNow() < deadline)
        {
            // Our own transaction's receipt, checked for the transfer all the same; if it reverted because the nonce
            // was used first (by the payer's own resubmission, or burned), the chain says which.
            if (await lookup.ConfirmAsync(network, hash, transfer, cancellationToken) is { } state)
            {
                return state.Use == AuthorizationUse.Unused
                    ? new SettleOutcome(true, false, hash, network.Id, payment.Authorization.From.ToString(), ReasonCodes.TransactionFailed, "The settlement transaction reverted.")
                    : BuiltInOutcomes.Concluded(state, network, payment);
            }
            await Task.Delay(wait, time, cancellationToken);
            wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, options.ReceiptPollInterval.Ticks));
        }
        return new SettleOutcome(false, false, hash, network.Id, payment.Authorization.From.ToString(), BuiltInFacilitator.SettlementPending, "The settlement transaction is not mined yet.");
    }
}
