using X402Serverless.Core.Inbox;

namespace X402Serverless.Core.Ports;

/// <summary>Messages to inbox links and their delivery state; every change is a conditional write.</summary>
public interface IInboxMessageStore
{
    Task AddAsync(InboxMessage message, CancellationToken cancellationToken);

    Task<InboxMessage?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>
    /// Writes <paramref name="updated"/> only if the stored message still has <paramref name="expectedStatus"/> and
    /// <paramref name="expectedAttempts"/>; false when another writer changed it first (or it is gone).
    /// </summary>
    Task<bool> TryUpdateAsync(InboxMessage updated, string expectedStatus, int expectedAttempts, CancellationToken cancellationToken);

    /// <summary>Queued or sending messages whose <see cref="InboxMessage.NextAttemptAt"/> has come, oldest first.</summary>
    Task<IReadOnlyList<InboxMessage>> DueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken);

    /// <summary>
    /// Messages still held (stored, their charge not concluded), last changed at or before <paramref name="before"/>,
    /// oldest first: a request stopped between storing a message and queueing it.
    /// </summary>
    Task<IReadOnlyList<InboxMessage>> HeldBeforeAsync(DateTimeOffset before, int max, CancellationToken cancellationToken);

    /// <summary>Removes a message still held (its capture failed); a message in any other status stays.</summary>
    Task DeleteHeldAsync(string id, CancellationToken cancellationToken);

    /// <summary>A link's messages newest first (never held ones), <paramref name="limit"/> at most, after the page cursor <paramref name="after"/>.</summary>
    Task<InboxMessagePage> ListAsync(string linkId, string? after, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Paid messages that failed without their refund being decided (neither refunded nor owed), last changed at or
    /// before <paramref name="before"/>: a refund interrupted by a crash between the two writes.
    /// </summary>
    Task<IReadOnlyList<InboxMessage>> RefundsDueAsync(DateTimeOffset before, int max, CancellationToken cancellationToken);

    /// <summary>Adds <paramref name="delta"/> to the link's running counters.</summary>
    Task AddTotalsAsync(string linkId, InboxTotals delta, CancellationToken cancellationToken);

    Task<InboxTotals> TotalsAsync(string linkId, CancellationToken cancellationToken);
}
