using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;

namespace X402Serverless.Tests.Support;

/// <summary>
/// A ledger that forwards every call to <paramref name="inner"/> and lets a test make something happen in a window the
/// gateway must survive: after <see cref="EntryExistsAsync"/> or <see cref="BalanceAsync"/> answered and before its
/// caller acts on that answer, or just before a hold is captured.
/// </summary>
internal sealed class HookedLedger(ILedger inner) : ILedger
{
    /// <summary>Runs after an existence check answered (with the entry's key), before the answer is returned.</summary>
    public Func<string, Task>? AfterEntryExists { get; init; }

    /// <summary>Runs after a balance was read (with the account), before it is returned.</summary>
    public Func<string, Task>? AfterBalance { get; init; }

    /// <summary>Runs before a hold's capture goes on to the store (with the hold's id).</summary>
    public Func<string, Task>? BeforeCaptureHold { get; init; }

    public async Task<bool> EntryExistsAsync(string key, CancellationToken cancellationToken)
    {
        var exists = await inner.EntryExistsAsync(key, cancellationToken);
        if (AfterEntryExists is { } hook)
        {
            await hook(key);
        }
        return exists;
    }

    public async Task<PostResult> CaptureHoldAsync(string holdId, LedgerEntry capture, CancellationToken cancellationToken)
    {
        if (BeforeCaptureHold is { } hook)
        {
            await hook(holdId);
        }
        return await inner.CaptureHoldAsync(holdId, capture, cancellationToken);
    }

    public string NewHoldId(DateTimeOffset now) => inner.NewHoldId(now);

    public Task<PostResult> PostAsync(LedgerEntry entry, IReadOnlyList<CapCheck> caps, CancellationToken cancellationToken) => inner.PostAsync(entry, caps, cancellationToken);

    public Task<(int Index, PostResult Result)> PostFirstAsync(IReadOnlyList<(LedgerEntry Entry, IReadOnlyList<CapCheck> Caps)> options, CancellationToken cancellationToken) =>
        inner.PostFirstAsync(options, cancellationToken);

    public Task<(int Index, PostResult Result)> HoldFirstAsync(IReadOnlyList<(LedgerEntry Entry, IReadOnlyList<CapCheck> Caps)> options, CancellationToken cancellationToken) =>
        inner.HoldFirstAsync(options, cancellationToken);

    /// <summary>Runs before a hold's release goes on to the store (with the hold's id; it may throw, as a busy store would).</summary>
    public Func<string, Task>? BeforeReleaseHold { get; init; }

    public async Task<PostResult> ReleaseHoldAsync(string holdId, LedgerEntry release, IReadOnlyList<CapCheck> givenBack, CancellationToken cancellationToken)
    {
        if (BeforeReleaseHold is { } hook)
        {
            await hook(holdId);
        }
        return await inner.ReleaseHoldAsync(holdId, release, givenBack, cancellationToken);
    }

    public Task UndoCapsAsync(IReadOnlyList<CapCheck> caps, CancellationToken cancellationToken) => inner.UndoCapsAsync(caps, cancellationToken);

    public async Task<Usd> BalanceAsync(string account, CancellationToken cancellationToken)
    {
        var balance = await inner.BalanceAsync(account, cancellationToken);
        if (AfterBalance is { } hook)
        {
            await hook(account);
        }
        return balance;
    }

    public Task<Usd> CapUsedAsync(string key, CancellationToken cancellationToken) => inner.CapUsedAsync(key, cancellationToken);

    public Task SetFloorAsync(string account, Usd floor, CancellationToken cancellationToken) => inner.SetFloorAsync(account, floor, cancellationToken);

    public Task<IReadOnlyList<Posting>> PostingsAsync(string account, int limit, CancellationToken cancellationToken) => inner.PostingsAsync(account, limit, cancellationToken);

    public Task<IReadOnlyList<Leg>?> EntryLegsAsync(string key, CancellationToken cancellationToken) => inner.EntryLegsAsync(key, cancellationToken);

    public Task<IReadOnlyList<(string HoldId, string Source, Usd Amount)>> StaleHoldsAsync(DateTimeOffset before, int max, CancellationToken cancellationToken) =>
        inner.StaleHoldsAsync(before, max, cancellationToken);

    public Task<IReadOnlyList<(string Account, Usd Balance, Usd PostedSum)>> TrialBalanceAsync(CancellationToken cancellationToken) => inner.TrialBalanceAsync(cancellationToken);

    /// <summary>Runs before recovery goes on to the store (it may throw, as a store that cannot finish an entry would).</summary>
    public Func<Task>? BeforeRecover { get; init; }

    public async Task<int> RecoverAsync(TimeSpan olderThan, CancellationToken cancellationToken)
    {
        if (BeforeRecover is { } before)
        {
            await before();
        }
        return await inner.RecoverAsync(olderThan, cancellationToken);
    }

    public Task<Usd> TotalAsync(CancellationToken cancellationToken) => inner.TotalAsync(cancellationToken);
}
