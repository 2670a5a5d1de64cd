using X402Serverless.Core.Inbox;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;

namespace X402Serverless.Handler.Inbox;

/// <summary>
/// Gives a failed delivery's money back. A balance payment is reversed in the ledger (the owner's earnings and the
/// operator's fee back to the allowance or credits it came from), once, keyed by the hold; an x402 payment moved on
/// chain and cannot be pulled back here, so it is recorded as owed to the payer's wallet. A pass's call is given back
/// to the pass, once, keyed by the message.
/// </summary>
internal sealed class InboxRefunds(ILedger ledger, IInboxMessageStore messages, IPassStore passes, TimeProvider time)
{
    /// <summary>
    /// Refunds a final (failed or delivered) paid message whose refund is not decided yet, records the outcome on the
    /// message (a write conditional on its status and attempt) and adds it to the inbox's counters. Safe to run twice
    /// or concurrently: the ledger entry is keyed by the hold, and only the writer whose update lands counts it.
    /// Returns the message as stored afterwards (null when it is gone).
    /// </summary>
    public async Task<InboxMessage?> FinishAsync(InboxMessage message, CancellationToken cancellationToken)
    {
        if (message.Refunded || message.RefundOwed)
        {
            return message;
        }
        var (decided, posted) = await DecideAsync(message, cancellationToken);
        if (decided == message)
        {
            return message;
        }
        // A refund write keeps the status and attempt, so two concurrent writers can both land: the ledger's keyed
        // entry decides which one counts a balance refund (only its first post), the write decides an owed one.
        var written = await messages.TryUpdateAsync(decided, message.Status, message.Attempts, cancellationToken);
        if (decided.Refunded ? posted : written)
        {
            await messages.AddTotalsAsync(message.LinkId, decided.Refunded
                ? new InboxTotals(0, Usd.Zero, decided.Amount, Usd.Zero)
                : new InboxTotals(0, Usd.Zero, Usd.Zero, decided.Amount), cancellationToken);
        }
        return written ? decided : await messages.GetAsync(message.Id, cancellationToken);
    }

    public async Task<InboxMessage> RefundAsync(InboxMessage message, CancellationToken cancellationToken) =>
        (await DecideAsync(message, cancellationToken)).Message;

    /// <summary>The message with its refund decided, and whether this call posted the ledger entry (not a duplicate of an earlier one).</summary>
    private async Task<(InboxMessage Message, bool Posted)> DecideAsync(InboxMessage message, CancellationToken cancellationToken)
    {
        if (message is { PaidWith: InboxPaidWith.Pass, PaymentId: { } passId })
        {
            // The store records the message with the call in one write: however often this runs, one call comes back.
            var given = await passes.GiveBackOnceAsync(message.LinkId, passId, $"{message.Id}:inbox-refund", time.GetUtcNow(), cancellationToken);
            return (message with { Refunded = true }, given);
        }
        if (!message.Paid || message.PaidWith == InboxPaidWith.Pass)
        {
            return (message, false);
        }
        if (message is not { HoldId: { } holdId, HoldSource: { } source })
        {
            return (message with { RefundOwed = true }, false);
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
        return result switch
        {
            PostResult.Posted => (message with { Refunded = true }, true),
            PostResult.Duplicate => (message with { Refunded = true }, false),
            _ => (message with { RefundOwed = true }, false),
        };
    }
}
