using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;

namespace X402Serverless.Core.Ports;

/// <summary>
/// The double-entry ledger: append-only postings, balances cached atomically with them, floors enforced in the same
/// write. Nothing here can make a non-clearing balance go below its floor.
/// </summary>
public interface ILedger
{
    /// <summary>
    /// A new hold's id: random by default, so keys spread over a partitioned store (Table Storage) rather than all
    /// landing at its end; a store with B-tree indexes may hand out ids in time order instead.
    /// </summary>
    string NewHoldId(DateTimeOffset now) => "hold_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));

    /// <summary>Posts a balanced entry atomically with its cap counters.</summary>
    Task<PostResult> PostAsync(LedgerEntry entry, IReadOnlyList<CapCheck> caps, CancellationToken cancellationToken);

    /// <summary>Posts the first entry whose debits fit (allowance first, then credits...); returns its index, or the last failure.</summary>
    Task<(int Index, PostResult Result)> PostFirstAsync(IReadOnlyList<(LedgerEntry Entry, IReadOnlyList<CapCheck> Caps)> options, CancellationToken cancellationToken);

    /// <summary>
    /// Places a call's hold: the first option whose debit and caps fit, each option a transfer into <c>hold:{key}</c>.
    /// By default it is posted like any entry (a store may hold it another way, as long as capture and release agree).
    /// </summary>
    Task<(int Index, PostResult Result)> HoldFirstAsync(IReadOnlyList<(LedgerEntry Entry, IReadOnlyList<CapCheck> Caps)> options, CancellationToken cancellationToken) =>
        PostFirstAsync(options, cancellationToken);

    /// <summary>Posts the capture of hold <paramref name="holdId"/> (an entry debiting <c>hold:{id}</c>).</summary>
    Task<PostResult> CaptureHoldAsync(string holdId, LedgerEntry capture, CancellationToken cancellationToken) =>
        PostAsync(capture, [], cancellationToken);

    /// <summary>
    /// Posts the release of hold <paramref name="holdId"/> and moves back the counters in <paramref name="givenBack"/>;
    /// the hold's other counters stay counted.
    /// </summary>
    async Task<PostResult> ReleaseHoldAsync(string holdId, LedgerEntry release, IReadOnlyList<CapCheck> givenBack, CancellationToken cancellationToken)
    {
        var result = await PostAsync(release, [], cancellationToken);
        if (givenBack.Count > 0)
        {
            await UndoCapsAsync(givenBack, cancellationToken);
        }
        return result;
    }

    /// <summary>Moves cap counters back (a released hold does not count as spending).</summary>
    Task UndoCapsAsync(IReadOnlyList<CapCheck> caps, CancellationToken cancellationToken);

    Task<Usd> BalanceAsync(string account, CancellationToken cancellationToken);

    Task<Usd> CapUsedAsync(string key, CancellationToken cancellationToken);

    /// <summary>The lowest balance an account may reach: 0, or minus a credit limit.</summary>
    Task SetFloorAsync(string account, Usd floor, CancellationToken cancellationToken);

    Task<IReadOnlyList<Posting>> PostingsAsync(string account, int limit, CancellationToken cancellationToken);

    Task<bool> EntryExistsAsync(string key, CancellationToken cancellationToken);

    /// <summary>The legs of the entry posted under <paramref name="key"/>, or null when none was (fully) posted.</summary>
    Task<IReadOnlyList<Leg>?> EntryLegsAsync(string key, CancellationToken cancellationToken);

    /// <summary>Holds still holding money that were placed before <paramref name="before"/>: their request died mid-call.</summary>
    Task<IReadOnlyList<(string HoldId, string Source, Usd Amount)>> StaleHoldsAsync(DateTimeOffset before, int max, CancellationToken cancellationToken);

    /// <summary>Every account's cached balance beside the sum of its postings (a trial balance).</summary>
    Task<IReadOnlyList<(string Account, Usd Balance, Usd PostedSum)>> TrialBalanceAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Finishes entries a crashed writer left half-applied (stores without multi-partition transactions apply an entry
    /// account by account); a no-op where every entry is one transaction.
    /// </summary>
    Task<int> RecoverAsync(TimeSpan olderThan, CancellationToken cancellationToken);

    /// <summary>Sum of every posting ever made: zero in a healthy ledger.</summary>
    Task<Usd> TotalAsync(CancellationToken cancellationToken);
}
