using X402Serverless.Core.Inbox;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Ports;

namespace X402Serverless.Handler.Inbox;

/// <summary>
/// Gives a failed delivery's money back. A balance payment is reversed in the ledger (the owner's earnings and the
/// operator's fee back to the allowance or credits it came from), once, keyed by the hold; an x402 payment moved on
/// chain and cannot be pulled back here, so it is recorded as owed to the payer's wallet.
/// </summary>
internal sealed class InboxRefunds(ILedger ledger)
{
    public async Task<InboxMessage> RefundAsync(InboxMessage message, CancellationToken cancellationToken)
    {
        if (message.PaidWith == InboxMessages.Free || !message.Amount.IsPositive)
        {
            return message;
        }
        if (message is not { HoldId: { } holdId, HoldSource: { } source })
        {
            return message with { RefundOwed = true };
        }
        var legs = new List<Leg> { new(source, message.Amount) };
        if ((message.Amount - message.Fee).IsPositive)
        {
            legs.Add(new Leg(Accounts.Earnings(message.OrganisationId), -(message.Amount - message.Fee)));
        }
        if (message.Fee.IsPositive)
        {
            legs.Add(new Leg(Accounts.OperatorFees, -message.Fee));
        }
        var result = await ledger.PostAsync(new LedgerEntry($"{holdId}:inbox-refund", "refund", legs, message.LinkId), [], cancellationToken);
        // Earnings already paid out cannot go negative: the refund is then owed by the owner instead.
        return result is PostResult.Posted or PostResult.Duplicate ? message with { Refunded = true } : message with { RefundOwed = true };
    }
}
