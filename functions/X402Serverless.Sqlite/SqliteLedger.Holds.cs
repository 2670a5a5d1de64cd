using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;

namespace X402Serverless.Sqlite;

/// <summary>
/// A call's hold on SQLite: placed and ended in memory by operations of the writer (<see cref="SqliteHeldMoney"/>), so a
/// paid call writes one entry, its capture (the payer's account to the provider's, with the counters the hold reserved).
/// Holds written as entries by an earlier version are still captured, released and swept as entries.
/// </summary>
public sealed partial class SqliteLedger
{
    private const string HoldPrefix = "hold:";

    public async Task<(int Index, PostResult Result)> HoldFirstAsync(IReadOnlyList<(LedgerEntry Entry, IReadOnlyList<CapCheck> Caps)> options,
        CancellationToken cancellationToken)
    {
        if (options.Count == 0)
        {
            throw new ArgumentException("At least one entry is needed.", nameof(options));
        }
        if (options.Any(o => o.Entry.Key != options[0].Entry.Key))
        {
            throw new ArgumentException("The options of one hold are entries under one key, the hold's id.", nameof(options));
        }
        var sources = options.Select(o => HeldSource(o.Entry)).ToList();
        var placedAt = time.GetUtcNow();
        return await database.Writes.WriteAsync(write => Place(write, database.Held, options, sources, placedAt), cancellationToken);
    }

    public Task<PostResult> CaptureHoldAsync(string holdId, LedgerEntry capture, CancellationToken cancellationToken)
    {
        if (!capture.IsBalanced)
        {
            throw new ArgumentException($"Entry {capture.Key} does not balance.", nameof(capture));
        }
        var now = SqliteText.Time(time.GetUtcNow());
        return database.Writes.WriteAsync(write =>
        {
            var held = database.Held;
            if (held.Find(holdId) is not { } call)
            {
                // Not held here: a hold written as an entry is captured as one; a released, swept or forgotten hold's
                // account is empty, so its capture is refused (and a second capture is a duplicate).
                var written = TryPost(write, held, capture, [], now);
                write.Undone = written != PostResult.Posted;
                return written;
            }
            var account = Accounts.Hold(holdId);
            if (capture.Legs.Count(l => l.Account == account) != 1 || capture.Legs.Single(l => l.Account == account).Amount.Micros != -call.Amount)
            {
                throw new ArgumentException($"A capture of {holdId} takes its whole hold, {call.Amount} micro-units.", nameof(capture));
            }
            // The hold's leg becomes the debit of its source: the payer's account pays the provider directly.
            var entry = capture with { Legs = [.. capture.Legs.Select(l => l.Account == account ? l with { Account = call.Source } : l)] };
            var result = TryPost(write, held, entry, call.Caps, now, captured: call);
            if (result == PostResult.Posted)
            {
                End(write, held, holdId, call);
            }
            else
            {
                write.Undone = true;
            }
            return result;
        }, cancellationToken);
    }

    public async Task<PostResult> ReleaseHoldAsync(string holdId, LedgerEntry release, IReadOnlyList<CapCheck> givenBack, CancellationToken cancellationToken)
    {
        var ended = await database.Writes.WriteAsync(write =>
        {
            if (End(write, database.Held, holdId) is not { } call)
            {
                return false;
            }
            // The counters not given back stay counted (a swept call may have run): written now, as its capture would.
            foreach (var cap in call.Caps.Where(c => !givenBack.Any(g => g.Key == c.Key)))
            {
                CountHeld(write, cap);
            }
            return true;
        }, cancellationToken);
        if (ended)
        {
            return PostResult.Posted;
        }
        // A hold written as an entry goes back as one. Its counters are given back unless it was captured.
        var result = await PostAsync(release, [], cancellationToken);
        if (givenBack.Count > 0 && !await EntryExistsAsync(holdId + ":capture", cancellationToken))
        {
            await UndoCapsAsync(givenBack, cancellationToken);
        }
        return result;
    }

    public async Task<IReadOnlyList<(string HoldId, string Source, Usd Amount)>> StaleHoldsAsync(DateTimeOffset before, int max, CancellationToken cancellationToken)
    {
        var stale = database.Held.PlacedBefore(before, max).Select(c => (c.Id, c.Source, Usd.FromMicros(c.Amount))).ToList();
        if (stale.Count < max)
        {
            stale.AddRange(await WrittenHoldsAsync(before, max - stale.Count, cancellationToken));
        }
        return stale;
    }

    /// <summary>Ends a hold for the writer now, for readers once committed; back as it was if the write is rolled back.</summary>
    private static SqliteHeldMoney.HeldCall? End(SqliteWrite write, SqliteHeldMoney held, string holdId, SqliteHeldMoney.HeldCall? expected = null)
    {
        if (held.End(holdId, expected) is not { } call)
        {
            return null;
        }
        write.OnCommit(() => held.Unshow(call));
        write.OnRollback(() => held.Restore(call));
        return call;
    }

    /// <summary>The first option whose source and counters leave room for it, reserved; nothing is written.</summary>
    private static (int Index, PostResult Result) Place(SqliteWrite write, SqliteHeldMoney held,
        IReadOnlyList<(LedgerEntry Entry, IReadOnlyList<CapCheck> Caps)> options, List<(string Source, long Amount)> sources, DateTimeOffset placedAt)
    {
        var id = options[0].Entry.Key;
        // An id that held, or paid, before does not hold again (a repeat of a keyed call must not pay twice).
        if (held.Find(id) is not null
            || write.Row("SELECT 1 FROM ledger_entries WHERE key IN ($k, $k || ':capture') LIMIT 1;", ("$k", id)) is not null)
        {
            return (0, PostResult.Duplicate);
        }
        var last = PostResult.Insufficient;
        for (var i = 0; i < options.Count; i++)
        {
            var (source, amount) = sources[i];
            last = Fits(write, held, source, amount, options[i].Caps, out var floor);
            if (last != PostResult.Posted)
            {
                continue;
            }
            var call = new SqliteHeldMoney.HeldCall(id, source, amount, floor, options[i].Caps, placedAt);
            if (!held.Place(call))
            {
                return (0, PostResult.Duplicate);
            }
            // A batch lost after this (its callers are told it failed) takes the hold back.
            write.OnRollback(() => held.Withdraw(call));
            return (i, PostResult.Posted);
        }
        return (-1, last);
    }

    private static PostResult Fits(SqliteWrite write, SqliteHeldMoney held, string source, long amount, IReadOnlyList<CapCheck> caps, out long floor)
    {
        floor = 0;
        foreach (var cap in caps)
        {
            var used = write.Row("SELECT used FROM spend_counters WHERE key = $k;", ("$k", cap.Key))?[0] ?? 0;
            if (used + held.OnCounter(cap.Key) + cap.Amount.Micros > cap.Limit.Micros)
            {
                return PostResult.CapExceeded;
            }
        }
        // An account never credited has nothing to hold (its floor would be 0).
        if (write.Row("SELECT balance, floor FROM ledger_balances WHERE account = $a;", ("$a", source)) is not [var balance, var written])
        {
            return PostResult.Insufficient;
        }
        floor = written;
        return balance - held.OnAccount(source) - amount >= floor ? PostResult.Posted : PostResult.Insufficient;
    }

    /// <summary>The account a hold entry takes from and how much: a hold is a transfer from its source into hold:{its key}.</summary>
    private static (string Source, long Amount) HeldSource(LedgerEntry entry)
    {
        if (entry.Legs is not [var from, var to] || to.Account != Accounts.Hold(entry.Key) || from.Amount.Micros >= 0
            || from.Amount.Micros != -to.Amount.Micros || Accounts.IsClearing(from.Account))
        {
            throw new ArgumentException($"Hold {entry.Key} must move money from one account into {Accounts.Hold(entry.Key)}.", nameof(entry));
        }
        return (from.Account, -from.Amount.Micros);
    }
}
