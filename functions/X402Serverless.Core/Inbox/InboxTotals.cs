using X402Serverless.Core.Money;

namespace X402Serverless.Core.Inbox;

/// <summary>
/// An inbox's running counters, added to as messages are paid and refunded, so its earnings are read from one place
/// instead of summed over its messages. Amounts are what senders paid (before the operator's fee).
/// </summary>
public sealed record InboxTotals(long Messages, Usd Paid, Usd Refunded, Usd RefundOwed)
{
    public static readonly InboxTotals None = new(0, Usd.Zero, Usd.Zero, Usd.Zero);

    /// <summary>Paid, less what was given back or is owed back.</summary>
    public Usd Kept => Paid - Refunded - RefundOwed;

    public InboxTotals Plus(InboxTotals other) =>
        new(Messages + other.Messages, Paid + other.Paid, Refunded + other.Refunded, RefundOwed + other.RefundOwed);
}

/// <summary>One page of an inbox's messages, newest first; <see cref="Next"/> continues after the last (null: no more).</summary>
public sealed record InboxMessagePage(IReadOnlyList<InboxMessage> Items, string? Next);
