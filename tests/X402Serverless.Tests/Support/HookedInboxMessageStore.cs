using X402Serverless.Core.Inbox;
using X402Serverless.Core.Ports;

namespace X402Serverless.Tests.Support;

/// <summary>An inbox message store that forwards every call to <paramref name="inner"/> and lets a test fail a write at a chosen moment.</summary>
internal sealed class HookedInboxMessageStore(IInboxMessageStore inner) : IInboxMessageStore
{
    /// <summary>Runs after a message was stored (it may throw, as a request stopping there would).</summary>
    public Func<InboxMessage, Task>? AfterAdd { get; init; }

    /// <summary>Runs before a conditional update, with the status it expects (it may throw, as a store that is down would).</summary>
    public Func<InboxMessage, string, Task>? BeforeUpdate { get; init; }

    public async Task AddAsync(InboxMessage message, CancellationToken cancellationToken)
    {
        await inner.AddAsync(message, cancellationToken);
        if (AfterAdd is { } hook)
        {
            await hook(message);
        }
    }

    public async Task<bool> TryUpdateAsync(InboxMessage updated, string expectedStatus, int expectedAttempts, CancellationToken cancellationToken)
    {
        if (BeforeUpdate is { } hook)
        {
            await hook(updated, expectedStatus);
        }
        return await inner.TryUpdateAsync(updated, expectedStatus, expectedAttempts, cancellationToken);
    }

    public Task<InboxMessage?> GetAsync(string id, CancellationToken cancellationToken) => inner.GetAsync(id, cancellationToken);

    public Task<IReadOnlyList<InboxMessage>> DueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken) => inner.DueAsync(now, max, cancellationToken);

    public Task<IReadOnlyList<InboxMessage>> HeldBeforeAsync(DateTimeOffset before, int max, CancellationToken cancellationToken) =>
        inner.HeldBeforeAsync(before, max, cancellationToken);

    public Task DeleteHeldAsync(string id, CancellationToken cancellationToken) => inner.DeleteHeldAsync(id, cancellationToken);

    public Task<InboxMessagePage> ListAsync(string linkId, string? after, int limit, CancellationToken cancellationToken) => inner.ListAsync(linkId, after, limit, cancellationToken);

    public Task<IReadOnlyList<InboxMessage>> RefundsDueAsync(DateTimeOffset before, int max, CancellationToken cancellationToken) =>
        inner.RefundsDueAsync(before, max, cancellationToken);

    public Task AddTotalsAsync(string linkId, InboxTotals delta, CancellationToken cancellationToken) => inner.AddTotalsAsync(linkId, delta, cancellationToken);

    public Task<InboxTotals> TotalsAsync(string linkId, CancellationToken cancellationToken) => inner.TotalsAsync(linkId, cancellationToken);
}
