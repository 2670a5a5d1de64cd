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
/// A call's hold is not written but kept beside the writer (<see cref="SqliteHeldMoney"/>, SqliteLedger.Holds.cs); every
/// debit and counter here leaves room for what it holds.
/// </summary>
public sealed partial class SqliteLedger(SqliteDatabase database, TimeProvider time) : ILedger
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
        return database.Writes.WriteAsync(write => PostFirst(write, database.Held, options, now), cancellationToken);
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

    /// <summary>What the account can spend: held money is out of it (as a hold: account, it is what its call holds).</summary>
    public async Task<Usd> BalanceAsync(string account, CancellationToken cancellationToken)
    {
        // What is held is read before the file: a capture committing in between is then counted twice (money shown
        // short for a moment), never not at all (held money shown as free).
        var held = account.StartsWith(HoldPrefix, StringComparison.Ordinal)
            ? -(database.Held.Find(account[HoldPrefix.Length..])?.Amount ?? 0)
            : database.Held.ShownOnAccount(account);
        return Usd.FromMicros(await ScalarAsync("SELECT balance FROM ledger_balances WHERE account = $a;", ("$a", account)) - held);
    }

    /// <summary>A counter's use, the calls in flight included (a hold counts until it is released).</summary>
    public async Task<Usd> CapUsedAsync(string key, CancellationToken cancellationToken)
    {
        var held = database.Held.ShownOnCounter(key); // before the file, as for a balance
        return Usd.FromMicros(await ScalarAsync("SELECT used FROM spend_counters WHERE key = $k;", ("$k", key)) + held);
    }

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

    /// <summary>Holds written as entries (placed before holds were kept in memory) still holding money.</summary>
    private async Task<IReadOnlyList<(string HoldId, string Source, Usd Amount)>> WrittenHoldsAsync(DateTimeOffset before, int max, CancellationToken cancellationToken)
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
    private static (int Index, PostResult Result) PostFirst(SqliteWrite write, SqliteHeldMoney held, IReadOnlyList<(LedgerEntry Entry, IReadOnlyList<CapCheck> Caps)> options, string now)
    {
        if (options.Count == 1)
        {
            // The operation's own savepoint is enough to drop a refused entry.
            var result = TryPost(write, held, options[0].Entry, options[0].Caps, now);
            write.Undone = result != PostResult.Posted;
            return (result is PostResult.Posted or PostResult.Duplicate ? 0 : -1, result);
        }
        var last = PostResult.Insufficient;
        for (var i = 0; i < options.Count; i++)
        {
            write.Execute("SAVEPOINT entry;");
            last = TryPost(write, held, options[i].Entry, options[i].Caps, now);
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

    /// <param name="captured">The hold this entry captures: its debit of the hold's source is bound by the floor the hold
    /// was placed under, and its counters, reserved at placement, are added as they are.</param>
    private static PostResult TryPost(SqliteWrite write, SqliteHeldMoney held, LedgerEntry entry, IReadOnlyList<CapCheck> caps, string now,
        SqliteHeldMoney.HeldCall? captured = null)
    {
        if (write.Execute("INSERT INTO ledger_entries (key, kind, memo, created_at) VALUES ($k, $kind, $memo, $at) ON CONFLICT(key) DO NOTHING;",
                ("$k", entry.Key), ("$kind", entry.Kind), ("$memo", (object?)entry.Memo ?? DBNull.Value), ("$at", now)) == 0)
        {
            return PostResult.Duplicate;
        }
        foreach (var cap in caps)
        {
            if (captured is not null)
            {
                CountHeld(write, cap);
                continue;
            }
            // One statement per counter: a first use inserts the amount (it cannot exceed the limit, checked here),
            // a later one adds to it only while the sum, with what calls in flight reserve, stays within the limit.
            var reserved = held.OnCounter(cap.Key);
            if (cap.Amount.Micros + reserved > cap.Limit.Micros || write.Execute("""
                    INSERT INTO spend_counters (key, used) VALUES ($k, $amount)
                    ON CONFLICT(key) DO UPDATE SET used = used + excluded.used WHERE used + excluded.used + $held <= $limit;
                    """, ("$k", cap.Key), ("$amount", cap.Amount.Micros), ("$held", reserved), ("$limit", cap.Limit.Micros)) == 0)
            {
                return PostResult.CapExceeded;
            }
        }
        foreach (var leg in entry.Legs)
        {
            var clearing = Accounts.IsClearing(leg.Account);
            if (captured is not null && leg.Account == captured.Source && leg.Amount.Micros == -captured.Amount)
            {
                // The hold's own money: the other holds were placed leaving room for it, so only a floor binds: the one
                // it was placed under, or the account's own if that was lowered since (a credit limit raised mid-call).
                if (write.Execute("UPDATE ledger_balances SET balance = balance + $d WHERE account = $a AND balance + $d >= MIN(floor, $floor);",
                        ("$a", leg.Account), ("$d", leg.Amount.Micros), ("$floor", captured.Floor)) == 0)
                {
                    return PostResult.Insufficient;
                }
            }
            else if (leg.Amount.IsNegative && !clearing)
            {
                // A debit moves an existing balance only while it stays at or above its floor with what calls in flight
                // hold still there; an account never credited has nothing to take (its floor would be 0).
                if (write.Execute("UPDATE ledger_balances SET balance = balance + $d WHERE account = $a AND balance + $d - $held >= floor;",
                        ("$a", leg.Account), ("$d", leg.Amount.Micros), ("$held", held.OnAccount(leg.Account))) == 0)
                {
                    return PostResult.Insufficient;
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

    /// <summary>Adds what a hold reserved on a counter, its limit checked when it was placed (a capture, a swept call).</summary>
    private static void CountHeld(SqliteWrite write, CapCheck cap) =>
        write.Execute("""
            INSERT INTO spend_counters (key, used) VALUES ($k, $amount)
            ON CONFLICT(key) DO UPDATE SET used = used + excluded.used;
            """, ("$k", cap.Key), ("$amount", cap.Amount.Micros));

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
