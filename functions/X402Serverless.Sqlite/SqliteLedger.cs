using Microsoft.Data.Sqlite;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Money;

namespace X402Serverless.Sqlite;

/// <summary>
/// The ledger on SQLite: each entry is one unit of the group-committing writer (<see cref="SqliteGroupCommit"/>: a
/// savepoint inside a batch transaction, acknowledged once committed) that inserts the entry (its key is the
/// idempotency guard), moves cap counters and balances with conditional updates (a floor or cap breach rolls the
/// entry back), then appends the postings. Entries of one batch apply one after the other, so a floor holds exactly.
/// A call's hold is kept in memory (<see cref="SqliteHolds"/>) and written with its capture, in one transaction.
/// </summary>
public sealed class SqliteLedger(SqliteDatabase database, TimeProvider time) : ILedger
{
    /// <summary>
    /// Time-ordered (a version 7 UUID: milliseconds, then 74 random bits), so each hold's rows land beside the previous
    /// ones in the indexes instead of on a random page: fewer pages written per commit.
    /// </summary>
    public string NewHoldId(DateTimeOffset now) => "hold_" + Guid.CreateVersion7(now).ToString("N");

    public async Task<PostResult> PostAsync(LedgerEntry entry, IReadOnlyList<CapCheck> caps, CancellationToken cancellationToken) =>
        (await PostFirstAsync([(entry, caps)], cancellationToken)).Result;

    public Task<(int Index, PostResult Result)> PostFirstAsync(IReadOnlyList<(LedgerEntry Entry, IReadOnlyList<CapCheck> Caps)> options, CancellationToken cancellationToken)
    {
        if (options.Count == 0)
        {
            throw new ArgumentException("At least one entry is needed.", nameof(options));
        }
        foreach (var (entry, _) in options)
        {
            if (!entry.IsBalanced)
            {
                throw new ArgumentException($"Entry {entry.Key} does not balance.", nameof(options));
            }
        }
        var now = SqliteText.Time(time.GetUtcNow());
        return PostFirstPendingAsync(options, now, cancellationToken);
    }

    /// <summary>
    /// Posts on the writer; the debits it makes count as pending for placements (<see cref="SqliteHolds"/>) from the
    /// moment they run until their transaction has committed or failed, so none reserves money a debit already took.
    /// </summary>
    private async Task<(int Index, PostResult Result)> PostFirstPendingAsync(IReadOnlyList<(LedgerEntry Entry, IReadOnlyList<CapCheck> Caps)> options, string now, CancellationToken cancellationToken)
    {
        var holds = database.Holds;
        var pending = new SqliteHolds.Pending();
        try
        {
            return await database.Writes.WriteAsync(write => PostFirst(write, holds, pending, options, now), cancellationToken);
        }
        finally
        {
            holds.EndPending(pending);
        }
    }

    public Task<(int Index, PostResult Result)> HoldFirstAsync(IReadOnlyList<(LedgerEntry Entry, IReadOnlyList<CapCheck> Caps)> options, CancellationToken cancellationToken)
    {
        if (options.Count == 0 || !options.All(o => SqliteHolds.IsHold(o.Entry)))
        {
            return PostFirstAsync(options, cancellationToken);
        }
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(database.Holds.PlaceFirst(options, time.GetUtcNow()));
    }

    public async Task<PostResult> CaptureHoldAsync(string holdId, LedgerEntry capture, CancellationToken cancellationToken)
    {
        if (database.Holds.Take(holdId) is not { } held)
        {
            // A hold written by an earlier version, or none (released meanwhile): the capture finds what is there.
            return await PostAsync(capture, [], cancellationToken);
        }
        if (!capture.IsBalanced)
        {
            database.Holds.Return(held);
            throw new ArgumentException($"Entry {capture.Key} does not balance.", nameof(capture));
        }
        var now = SqliteText.Time(time.GetUtcNow());
        PostResult result;
        try
        {
            result = await database.Writes.WriteAsync(write => PostHeld(write, held, capture, now), cancellationToken);
        }
        catch
        {
            // Not written: still held, so that its release finds it.
            database.Holds.Return(held);
            throw;
        }
        if (result is PostResult.Posted or PostResult.Duplicate)
        {
            // Committed (or captured before): the balance shows the debit, so the reservation may go.
            database.Holds.GiveBack(held);
        }
        else
        {
            database.Holds.Return(held);
        }
        return result;
    }

    public async Task<PostResult> ReleaseHoldAsync(string holdId, LedgerEntry release, IReadOnlyList<CapCheck> givenBack, CancellationToken cancellationToken)
    {
        if (database.Holds.Take(holdId) is { } held)
        {
            // Counters not given back stay counted, as a written hold's do (the call may have run): written before the
            // reservation ends, so no placement in between finds them free.
            var kept = held.Caps.Where(c => !givenBack.Any(g => g.Key == c.Key)).ToList();
            try
            {
                if (kept.Count > 0)
                {
                    await database.Writes.WriteAsync(write =>
                    {
                        foreach (var cap in kept)
                        {
                            CountCap(write, cap.Key, cap.Amount);
                        }
                        return true;
                    }, CancellationToken.None);
                }
            }
            catch
            {
                database.Holds.Return(held);
                throw;
            }
            database.Holds.GiveBack(held);
            return PostResult.Posted;
        }
        var result = await PostAsync(release, [], cancellationToken);
        if (givenBack.Count > 0)
        {
            await UndoCapsAsync(givenBack, cancellationToken);
        }
        return result;
    }

    public Task UndoCapsAsync(IReadOnlyList<CapCheck> caps, CancellationToken cancellationToken) =>
        database.Writes.WriteAsync(write =>
        {
            foreach (var cap in caps)
            {
                write.Execute("UPDATE spend_counters SET used = MAX(0, used - $amount) WHERE key = $key;", ("$key", cap.Key), ("$amount", cap.Amount.Micros));
            }
            return true;
        }, cancellationToken);

    /// <summary>The committed balance less what calls in progress hold of it (a hold's own account: what it holds).</summary>
    public async Task<Usd> BalanceAsync(string account, CancellationToken cancellationToken)
    {
        var committed = await ScalarAsync("SELECT balance FROM ledger_balances WHERE account = $a;", ("$a", account));
        var held = account.StartsWith("hold:", StringComparison.Ordinal) ? database.Holds.HeldBy(account["hold:".Length..]).Micros : -database.Holds.ReservedFor(account);
        return Usd.FromMicros(committed + held);
    }

    public async Task<Usd> CapUsedAsync(string key, CancellationToken cancellationToken) =>
        Usd.FromMicros(await ScalarAsync("SELECT used FROM spend_counters WHERE key = $k;", ("$k", key)) + database.Holds.ReservedForCap(key));

    public Task SetFloorAsync(string account, Usd floor, CancellationToken cancellationToken) =>
        database.Writes.WriteAsync(write => write.Execute("""
            INSERT INTO ledger_balances (account, balance, floor) VALUES ($a, 0, $f)
            ON CONFLICT(account) DO UPDATE SET floor = excluded.floor;
            """, ("$a", account), ("$f", floor.Micros)), cancellationToken);

    public async Task<IReadOnlyList<Posting>> PostingsAsync(string account, int limit, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT p.seq, p.entry_key, e.kind, p.account, p.amount, e.memo, p.created_at
            FROM ledger_postings p JOIN ledger_entries e ON e.key = p.entry_key
            WHERE p.account = $a ORDER BY p.seq DESC LIMIT $limit;
            """;
        command.Parameters.AddWithValue("$a", account);
        command.Parameters.AddWithValue("$limit", limit);
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<Posting>();
        while (await r.ReadAsync(cancellationToken))
        {
            list.Add(new Posting(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), Usd.FromMicros(r.GetInt64(4)), r.IsDBNull(5) ? null : r.GetString(5), SqliteText.Time(r.GetString(6))));
        }
        return list;
    }

    public async Task<IReadOnlyList<(string HoldId, string Source, Usd Amount)>> StaleHoldsAsync(DateTimeOffset before, int max, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT e.key, (SELECT p.account FROM ledger_postings p WHERE p.entry_key = e.key AND p.amount < 0 LIMIT 1), b.balance
            FROM ledger_balances b JOIN ledger_entries e ON e.key = substr(b.account, 6)
            WHERE b.account LIKE 'hold:%' AND b.balance > 0 AND e.created_at < $before
            ORDER BY e.created_at LIMIT $max;
            """;
        command.Parameters.AddWithValue("$before", SqliteText.Time(before));
        command.Parameters.AddWithValue("$max", max);
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<(string, string, Usd)>();
        while (await r.ReadAsync(cancellationToken))
        {
            list.Add((r.GetString(0), r.GetString(1), Usd.FromMicros(r.GetInt64(2))));
        }
        foreach (var held in database.Holds.PlacedBefore(before, max - list.Count))
        {
            list.Add((held.Id, held.Source, held.Amount));
        }
        return list;
    }

    public async Task<IReadOnlyList<(string Account, Usd Balance, Usd PostedSum)>> TrialBalanceAsync(CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT b.account, b.balance, COALESCE(s.total, 0)
            FROM ledger_balances b LEFT JOIN (SELECT account, SUM(amount) AS total FROM ledger_postings GROUP BY account) s ON s.account = b.account
            ORDER BY b.account;
            """;
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<(string, Usd, Usd)>();
        while (await r.ReadAsync(cancellationToken))
        {
            list.Add((r.GetString(0), Usd.FromMicros(r.GetInt64(1)), Usd.FromMicros(r.GetInt64(2))));
        }
        return list;
    }

    public Task<int> RecoverAsync(TimeSpan olderThan, CancellationToken cancellationToken) => Task.FromResult(0); // entries are atomic here

    public async Task<bool> EntryExistsAsync(string key, CancellationToken cancellationToken) =>
        await ScalarAsync("SELECT COUNT(*) FROM ledger_entries WHERE key = $k;", ("$k", key)) > 0;

    public async Task<IReadOnlyList<Leg>?> EntryLegsAsync(string key, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT account, amount FROM ledger_postings WHERE entry_key = $k ORDER BY seq;";
        command.Parameters.AddWithValue("$k", key);
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        var legs = new List<Leg>();
        while (await r.ReadAsync(cancellationToken))
        {
            legs.Add(new Leg(r.GetString(0), Usd.FromMicros(r.GetInt64(1))));
        }
        return legs.Count == 0 ? null : legs;
    }

    public async Task<Usd> TotalAsync(CancellationToken cancellationToken) =>
        Usd.FromMicros(await ScalarAsync("SELECT COALESCE(SUM(amount), 0) FROM ledger_postings;"));

    /// <summary>Posts the first option that passes, each tried in its own savepoint; a refused one leaves no trace.</summary>
    private static (int Index, PostResult Result) PostFirst(SqliteWrite write, SqliteHolds holds, SqliteHolds.Pending pending, IReadOnlyList<(LedgerEntry Entry, IReadOnlyList<CapCheck> Caps)> options, string now)
    {
        if (options.Count == 1)
        {
            // The operation's own savepoint is enough to drop a refused entry.
            var result = TryPost(write, holds, options[0].Entry, options[0].Caps, now, pending);
            write.Undone = result != PostResult.Posted;
            return (result is PostResult.Posted or PostResult.Duplicate ? 0 : -1, result);
        }
        var last = PostResult.Insufficient;
        for (var i = 0; i < options.Count; i++)
        {
            write.Execute("SAVEPOINT entry;");
            last = TryPost(write, holds, options[i].Entry, options[i].Caps, now, pending);
            if (last != PostResult.Posted)
            {
                write.Execute("ROLLBACK TO entry;");
            }
            write.Execute("RELEASE entry;");
            if (last is PostResult.Posted or PostResult.Duplicate)
            {
                return (i, last);
            }
        }
        return (-1, last);
    }

    /// <summary>
    /// Writes a held call's hold entry and its capture together; both or neither. Its counters were checked when it was
    /// placed, so they are counted here without a limit, and its debit needs only the floor (its own money is reserved).
    /// </summary>
    private static PostResult PostHeld(SqliteWrite write, SqliteHolds.Held held, LedgerEntry capture, string now)
    {
        var result = TryPost(write, null, held.Entry, [], now);
        if (result == PostResult.Duplicate)
        {
            // Its id was used by another hold meanwhile (placement checks the ledger, this closes the race): not paid.
            result = PostResult.Insufficient;
        }
        if (result == PostResult.Posted)
        {
            foreach (var cap in held.Caps)
            {
                CountCap(write, cap.Key, cap.Amount);
            }
            result = TryPost(write, null, capture, [], now);
        }
        write.Undone = result != PostResult.Posted;
        return result;
    }

    private static void CountCap(SqliteWrite write, string key, Usd amount) =>
        write.Execute("INSERT INTO spend_counters (key, used) VALUES ($k, $amount) ON CONFLICT(key) DO UPDATE SET used = used + excluded.used;",
            ("$k", key), ("$amount", amount.Micros));

    /// <param name="holds">The holds in memory, whose reservations a debit or cap leaves in place; null for a held call's own entries.</param>
    /// <param name="pending">Where the debits made are noted for placements until commit; null for a held call's own entries.</param>
    private static PostResult TryPost(SqliteWrite write, SqliteHolds? holds, LedgerEntry entry, IReadOnlyList<CapCheck> caps, string now, SqliteHolds.Pending? pending = null)
    {
        if (write.Execute("INSERT INTO ledger_entries (key, kind, memo, created_at) VALUES ($k, $kind, $memo, $at) ON CONFLICT(key) DO NOTHING;",
                ("$k", entry.Key), ("$kind", entry.Kind), ("$memo", (object?)entry.Memo ?? DBNull.Value), ("$at", now)) == 0)
        {
            return PostResult.Duplicate;
        }
        foreach (var cap in caps)
        {
            // One statement per counter: a first use inserts the amount (it cannot exceed the limit, checked here),
            // a later one adds to it only while the sum stays within the limit. Holds in progress count too.
            var reserved = holds?.ReservedForCap(cap.Key) ?? 0;
            if (cap.Amount.Micros + reserved > cap.Limit.Micros || write.Execute("""
                    INSERT INTO spend_counters (key, used) VALUES ($k, $amount)
                    ON CONFLICT(key) DO UPDATE SET used = used + excluded.used WHERE used + excluded.used + $reserved <= $limit;
                    """, ("$k", cap.Key), ("$amount", cap.Amount.Micros), ("$reserved", reserved), ("$limit", cap.Limit.Micros)) == 0)
            {
                return PostResult.CapExceeded;
            }
        }
        foreach (var leg in entry.Legs)
        {
            var clearing = Accounts.IsClearing(leg.Account);
            if (leg.Amount.IsNegative && !clearing)
            {
                // A debit moves an existing balance only while it stays at or above its floor, less what calls in
                // progress hold of it; an account never credited has nothing to take (its floor would be 0).
                if (write.Execute("UPDATE ledger_balances SET balance = balance + $d WHERE account = $a AND balance + $d - $reserved >= floor;",
                        ("$a", leg.Account), ("$d", leg.Amount.Micros), ("$reserved", holds?.ReservedFor(leg.Account) ?? 0)) == 0)
                {
                    return PostResult.Insufficient;
                }
                if (holds is not null && pending is not null)
                {
                    holds.AddPending(pending, leg.Account, -leg.Amount.Micros);
                }
            }
            else
            {
                // A credit (or a clearing account, which has no floor) creates the balance or adds to it.
                write.Execute("""
                    INSERT INTO ledger_balances (account, balance, floor) VALUES ($a, $d, $f)
                    ON CONFLICT(account) DO UPDATE SET balance = balance + excluded.balance;
                    """, ("$a", leg.Account), ("$d", leg.Amount.Micros), ("$f", clearing ? long.MinValue : 0L));
            }
            write.Execute("INSERT INTO ledger_postings (entry_key, account, amount, created_at) VALUES ($k, $a, $d, $at);",
                ("$k", entry.Key), ("$a", leg.Account), ("$d", leg.Amount.Micros), ("$at", now));
        }
        return PostResult.Posted;
    }

    private async Task<long> ScalarAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        var result = await command.ExecuteScalarAsync();
        return result is null or DBNull ? 0 : Convert.ToInt64(result, System.Globalization.CultureInfo.InvariantCulture);
    }
}
