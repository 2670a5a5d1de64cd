using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;

namespace X402Serverless.Sqlite;

/// <summary>
/// Holds kept in memory until their call ends. The embedded store is one process, and a hold lives only as long as its
/// request: a durable hold outlived a crash only to be released by the next start. So a hold is a reservation here
/// (checked against the committed balance and counters less what is already reserved), and its entry is written only
/// with its capture, in the same transaction; a released hold writes nothing. One write per paid call instead of two.
/// <para>
/// Safety: a capture gives its reservation back only after its commit, and a placement uses the committed state it
/// read only if nothing was given back since it started reading (else it reads again). So a placement never sees a
/// lowered reservation without the lowered balance behind it; between commit and give-back both count (a placement
/// then errs towards refusing). Debits that are not holds see the reservations too (<see cref="ReservedFor"/>), as they
/// saw a durable hold's money gone, and a plain debit counts for placements from the moment the writer makes it until its
/// transaction ends (<see cref="AddPending"/>). Left open: a floor raised (a credit limit lowered) while a call holds
/// money can leave that hold uncapturable; its capture then pays nothing, the hold goes back and the answer is withheld,
/// never a balance below its floor (the capture's own write checks it).
/// </para>
/// </summary>
internal sealed class SqliteHolds(Func<SqliteConnection> open) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Held> _holds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _byAccount = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _byCap = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _pendingDebits = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<CommittedReader> _readers = [];
    private long _givenBack;

    /// <summary>Reads of the committed state tried again when a hold ended meanwhile, before one is made under the gate.</summary>
    private const int MaxReadAgain = 4;

    private const int MaxReaders = 4;

    /// <summary>One reserved hold: its entry (written at capture), the counters it counts, when it was placed.</summary>
    internal sealed record Held(LedgerEntry Entry, IReadOnlyList<CapCheck> Caps, string Source, Usd Amount, DateTimeOffset PlacedAt)
    {
        public string Id => Entry.Key;
    }

    /// <summary>A hold entry as <c>CreditCharges</c> makes it: one non-clearing account debited into <c>hold:{key}</c>.</summary>
    public static bool IsHold(LedgerEntry entry) =>
        entry.Kind == "hold" && entry.Legs.Count == 2 && entry.IsBalanced
        && entry.Legs.Count(l => l.Amount.IsPositive && l.Account == Accounts.Hold(entry.Key)) == 1
        && entry.Legs.Count(l => l.Amount.IsNegative && !Accounts.IsClearing(l.Account) && !l.Account.StartsWith("hold:", StringComparison.Ordinal)) == 1;

    /// <summary>Reserves the first option whose caps and debit fit; its index and result, or -1 and the last failure.</summary>
    public (int Index, PostResult Result) PlaceFirst(IReadOnlyList<(LedgerEntry Entry, IReadOnlyList<CapCheck> Caps)> options, DateTimeOffset now)
    {
        var accounts = options.Select(o => Source(o.Entry)).Distinct(StringComparer.Ordinal).ToList();
        var caps = options.SelectMany(o => o.Caps).Select(c => c.Key).Distinct(StringComparer.Ordinal).ToList();
        var keys = options.Select(o => o.Entry.Key).Distinct(StringComparer.Ordinal).ToList();
        for (var attempt = 0; ; attempt++)
        {
            // The committed state is read outside the gate, then used only if no reservation was given back meanwhile:
            // a give-back follows its commit, so one seen before the read is in what was read.
            var givenBack = Volatile.Read(ref _givenBack);
            var committed = ReadCommitted(accounts, caps, keys);
            lock (_gate)
            {
                // An id already held, or already written (a hold captured before): never a second hold under it.
                if (options.Any(o => _holds.ContainsKey(o.Entry.Key) || committed.Entries.Contains(o.Entry.Key)))
                {
                    return (0, PostResult.Duplicate);
                }
                if (_givenBack != givenBack && attempt < MaxReadAgain)
                {
                    continue;
                }
                if (_givenBack != givenBack)
                {
                    // Calls keep ending faster than a read: read under the gate, where nothing is given back.
                    committed = ReadCommitted(accounts, caps, keys);
                }
                return Reserve(options, committed, now);
            }
        }
    }

    private (int Index, PostResult Result) Reserve(IReadOnlyList<(LedgerEntry Entry, IReadOnlyList<CapCheck> Caps)> options, Committed committed, DateTimeOffset now)
    {
        var last = PostResult.Insufficient;
        for (var i = 0; i < options.Count; i++)
        {
            var (entry, checks) = options[i];
            last = Fits(entry, checks, committed);
            if (last != PostResult.Posted)
            {
                continue;
            }
            var source = Source(entry);
            var amount = -entry.Legs.Single(l => l.Account == source).Amount;
            _holds.Add(entry.Key, new Held(entry, checks, source, amount, now));
            Add(_byAccount, source, amount.Micros);
            foreach (var check in checks)
            {
                Add(_byCap, check.Key, check.Amount.Micros);
            }
            return (i, PostResult.Posted);
        }
        return (-1, last);
    }

    /// <summary>Takes a hold out to be captured or released (it stays reserved until <see cref="GiveBack"/>); null when none is held.</summary>
    public Held? Take(string holdId)
    {
        lock (_gate)
        {
            return _holds.Remove(holdId, out var held) ? held : null;
        }
    }

    /// <summary>Puts back a hold whose capture did not commit, so its release finds it.</summary>
    public void Return(Held held)
    {
        lock (_gate)
        {
            _holds.TryAdd(held.Id, held);
        }
    }

    /// <summary>Ends a taken hold's reservation: after its capture committed, or on its release.</summary>
    public void GiveBack(Held held)
    {
        lock (_gate)
        {
            _givenBack++;
            Add(_byAccount, held.Source, -held.Amount.Micros);
            foreach (var check in held.Caps)
            {
                Add(_byCap, check.Key, -check.Amount.Micros);
            }
        }
    }

    /// <summary>The debits one write made, pending for placements until its transaction ends (<see cref="EndPending"/>).</summary>
    internal sealed class Pending
    {
        public List<(string Account, long Micros)> Debits { get; } = [];
    }

    /// <summary>Notes a plain debit the writer just made, not yet committed.</summary>
    public void AddPending(Pending pending, string account, long micros)
    {
        lock (_gate)
        {
            pending.Debits.Add((account, micros));
            Add(_pendingDebits, account, micros);
        }
    }

    /// <summary>The write's transaction committed or failed: its debits are in the committed state, or gone.</summary>
    public void EndPending(Pending pending)
    {
        if (pending.Debits.Count == 0)
        {
            return;
        }
        lock (_gate)
        {
            // Like a give-back: a placement that read before the commit reads again.
            _givenBack++;
            foreach (var (account, micros) in pending.Debits)
            {
                Add(_pendingDebits, account, -micros);
            }
        }
    }

    /// <summary>Micro-USD reserved from <paramref name="account"/> by holds not yet captured or released.</summary>
    public long ReservedFor(string account)
    {
        lock (_gate)
        {
            return _byAccount.GetValueOrDefault(account);
        }
    }

    /// <summary>Micro-USD counted against the cap <paramref name="key"/> by holds not yet captured or released.</summary>
    public long ReservedForCap(string key)
    {
        lock (_gate)
        {
            return _byCap.GetValueOrDefault(key);
        }
    }

    /// <summary>What hold <paramref name="holdId"/> reserves, or zero.</summary>
    public Usd HeldBy(string holdId)
    {
        lock (_gate)
        {
            return _holds.TryGetValue(holdId, out var held) ? held.Amount : Usd.Zero;
        }
    }

    /// <summary>Holds placed before <paramref name="before"/> and still held, oldest first.</summary>
    public IReadOnlyList<Held> PlacedBefore(DateTimeOffset before, int max)
    {
        lock (_gate)
        {
            return _holds.Values.Where(h => h.PlacedAt < before).OrderBy(h => h.PlacedAt).Take(max).ToList();
        }
    }

    public void Dispose()
    {
        while (_readers.TryTake(out var reader))
        {
            reader.Dispose();
        }
    }

    private static string Source(LedgerEntry entry) => entry.Legs.Single(l => l.Amount.IsNegative).Account;

    private PostResult Fits(LedgerEntry entry, IReadOnlyList<CapCheck> checks, Committed committed)
    {
        foreach (var check in checks)
        {
            var used = committed.Used.GetValueOrDefault(check.Key) + _byCap.GetValueOrDefault(check.Key);
            if (check.Amount > check.Limit || used + check.Amount.Micros > check.Limit.Micros)
            {
                return PostResult.CapExceeded;
            }
        }
        var source = Source(entry);
        // An account never credited has nothing to take (its floor would be 0), as in the durable ledger.
        if (!committed.Balances.TryGetValue(source, out var balance))
        {
            return PostResult.Insufficient;
        }
        var debit = entry.Legs.Single(l => l.Account == source).Amount.Micros;
        var taken = _byAccount.GetValueOrDefault(source) + _pendingDebits.GetValueOrDefault(source);
        return balance.Balance - taken + debit >= balance.Floor ? PostResult.Posted : PostResult.Insufficient;
    }

    /// <summary>The committed balances, floors and counters (a fresh snapshot), on a connection of the holds' own.</summary>
    private Committed ReadCommitted(List<string> accounts, List<string> caps, List<string> keys)
    {
        if (!_readers.TryTake(out var reader))
        {
            reader = new CommittedReader(open());
        }
        try
        {
            return reader.Read(accounts, caps, keys);
        }
        finally
        {
            // A few connections serve any number of placements; one made at a peak is closed after it.
            if (_readers.Count < MaxReaders)
            {
                _readers.Add(reader);
            }
            else
            {
                reader.Dispose();
            }
        }
    }

    private static void Add(Dictionary<string, long> sums, string key, long micros)
    {
        var sum = sums.GetValueOrDefault(key) + micros;
        if (sum == 0)
        {
            sums.Remove(key);
        }
        else
        {
            sums[key] = sum;
        }
    }

    private sealed class Committed
    {
        public Dictionary<string, (long Balance, long Floor)> Balances { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, long> Used { get; } = new(StringComparer.Ordinal);

        public HashSet<string> Entries { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>One connection with its statements prepared, per shape of read (accounts, counters).</summary>
    private sealed class CommittedReader(SqliteConnection connection) : IDisposable
    {
        private readonly Dictionary<(int, int, int), SqliteCommand> _commands = [];

        public Committed Read(List<string> accounts, List<string> caps, List<string> keys)
        {
            if (!_commands.TryGetValue((accounts.Count, caps.Count, keys.Count), out var command))
            {
                command = connection.CreateCommand();
                var a = string.Join(", ", accounts.Select((_, i) => $"$a{i}"));
                var c = string.Join(", ", caps.Select((_, i) => $"$c{i}"));
                var k = string.Join(", ", keys.Select((_, i) => $"$k{i}"));
                command.CommandText = "SELECT 0, account, balance, floor FROM ledger_balances WHERE account IN (" + a + ")"
                    + (caps.Count > 0 ? " UNION ALL SELECT 1, key, used, 0 FROM spend_counters WHERE key IN (" + c + ")" : "")
                    + " UNION ALL SELECT 2, key, 0, 0 FROM ledger_entries WHERE key IN (" + k + ");";
                _commands[(accounts.Count, caps.Count, keys.Count)] = command;
            }
            command.Parameters.Clear();
            for (var i = 0; i < keys.Count; i++)
            {
                command.Parameters.AddWithValue($"$k{i}", keys[i]);
            }
            for (var i = 0; i < accounts.Count; i++)
            {
                command.Parameters.AddWithValue($"$a{i}", accounts[i]);
            }
            for (var i = 0; i < caps.Count; i++)
            {
                command.Parameters.AddWithValue($"$c{i}", caps[i]);
            }
            var committed = new Committed();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                switch (reader.GetInt32(0))
                {
                    case 0:
                        committed.Balances[reader.GetString(1)] = (reader.GetInt64(2), reader.GetInt64(3));
                        break;
                    case 1:
                        committed.Used[reader.GetString(1)] = reader.GetInt64(2);
                        break;
                    default:
                        committed.Entries.Add(reader.GetString(1));
                        break;
                }
            }
            return committed;
        }

        public void Dispose()
        {
            foreach (var command in _commands.Values)
            {
                command.Dispose();
            }
            connection.Dispose();
        }
    }
}
