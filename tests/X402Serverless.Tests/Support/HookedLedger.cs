using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;

namespace X402Serverless.Tests.Stripe;

/// <summary>
/// A ledger whose <see cref="EntryExistsAsync"/> answers as of the moment it was asked, then lets something happen
/// (<paramref name="afterCheck"/>) before the caller acts on that answer: the window between a check and a write.
/// </summary>
internal sealed class RacingLedger(ILedger inner, Func<string, Task> afterCheck) : ILedger
{
    public async Task<bool> EntryExistsAsync(string key, CancellationToken cancellationToken)
    {
        var exists = await inner.EntryExistsAsync(key, cancellationToken);
        await afterCheck(key);
        return exists;
    }

    public Task<PostResult> PostAsync(LedgerEntry entry, IReadOnlyList<CapCheck> caps, CancellationToken cancellationToken) => inner.PostAsync(entry, caps, cancellationToken);

    public Task<(int Index, PostResult Result)> PostFirstAsync(IReadOnlyList<(LedgerEntry Entry, IReadOnlyList<CapCheck> Caps)> options, CancellationToken cancellationToken) =>
        inner.PostFirstAsync(options, cancellationToken);

    public Task UndoCapsAsync(IReadOnlyList<CapCheck> caps, CancellationToken cancellationToken) => inner.UndoCapsAsync(caps, cancellationToken);

    public Task<Usd> BalanceAsync(string account, CancellationToken cancellationToken) => inner.BalanceAsync(account, cancellationToken);

    public Task<Usd> CapUsedAsync(string key, CancellationToken cancellationToken) => inner.CapUsedAsync(key, cancellationToken);

    public Task SetFloorAsync(string account, Usd floor, CancellationToken cancellationToken) => inner.SetFloorAsync(account, floor, cancellationToken);

    public Task<IReadOnlyList<Posting>> PostingsAsync(string account, int limit, CancellationToken cancellationToken) => inner.PostingsAsync(account, limit, cancellationToken);

    public Task<IReadOnlyList<Leg>?> EntryLegsAsync(string key, CancellationToken cancellationToken) => inner.EntryLegsAsync(key, cancellationToken);

    public Task<IReadOnlyList<(string HoldId, string Source, Usd Amount)>> StaleHoldsAsync(DateTimeOffset before, int max, CancellationToken cancellationToken) =>
        inner.StaleHoldsAsync(before, max, cancellationToken);

    public Task<IReadOnlyList<(string Account, Usd Balance, Usd PostedSum)>> TrialBalanceAsync(CancellationToken cancellationToken) => inner.TrialBalanceAsync(cancellationToken);

    public Task<int> RecoverAsync(TimeSpan olderThan, CancellationToken cancellationToken) => inner.RecoverAsync(olderThan, cancellationToken);

    public Task<Usd> TotalAsync(CancellationToken cancellationToken) => inner.TotalAsync(cancellationToken);
}
