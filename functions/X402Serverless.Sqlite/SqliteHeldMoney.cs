using X402Serverless.Core.Ledger;

namespace X402Serverless.Sqlite;

/// <summary>
/// The holds of calls in flight, kept in memory beside the database's one writer instead of written as rows: a hold
/// is placed, captured and released by operations of that writer (<see cref="SqliteGroupCommit"/>), which see every
/// write before theirs, so the amounts held here and the balances in the file are read as one. Only a capture
/// writes (one entry, payer to provider). A restart forgets the holds, which is what releasing them would do: a call
/// that never answered is not charged (docs/credit-holds.md).
/// Two views: the writer's, which a capture or release leaves at once (the debit it wrote is already in the file for
/// the writer), and the readers', which keeps a hold until its capture is committed, so a reader of the file never
/// counts held money as free.
/// </summary>
public sealed class SqliteHeldMoney
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, HeldCall> _calls = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _accounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _counters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _shownAccounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _shownCounters = new(StringComparer.Ordinal);

    /// <summary>
    /// One call's hold: <paramref name="Floor"/> is its source's floor when placed (a credit limit lowered since does
    /// not make a placed hold uncapturable), <paramref name="Caps"/> the counters it reserved.
    /// </summary>
    public sealed record HeldCall(string Id, string Source, long Amount, long Floor, IReadOnlyList<CapCheck> Caps, DateTimeOffset PlacedAt);

    /// <summary>The writer's view: micro-units held from <paramref name="account"/>.</summary>
    internal long OnAccount(string account) => Read(_accounts, account);

    /// <summary>The writer's view: micro-units reserved on cap counter <paramref name="key"/>.</summary>
    internal long OnCounter(string key) => Read(_counters, key);

    /// <summary>The readers' view: held from <paramref name="account"/>, captures not yet committed included.</summary>
    public long ShownOnAccount(string account) => Read(_shownAccounts, account);

    /// <summary>The readers' view: reserved on counter <paramref name="key"/>, captures not yet committed included.</summary>
    public long ShownOnCounter(string key) => Read(_shownCounters, key);

    public HeldCall? Find(string id)
    {
        lock (_lock)
        {
            return _calls.GetValueOrDefault(id);
        }
    }

    /// <summary>Holds placed before <paramref name="before"/>, oldest first.</summary>
    public IReadOnlyList<HeldCall> PlacedBefore(DateTimeOffset before, int max)
    {
        lock (_lock)
        {
            return _calls.Values.Where(c => c.PlacedAt < before).OrderBy(c => c.PlacedAt).Take(max).ToList();
        }
    }

    /// <summary>Places <paramref name="call"/> in both views; false when its id is held already.</summary>
    internal bool Place(HeldCall call)
    {
        lock (_lock)
        {
            if (!_calls.TryAdd(call.Id, call))
            {
                return false;
            }
            Move(_accounts, _counters, call, +1);
            Move(_shownAccounts, _shownCounters, call, +1);
            return true;
        }
    }

    /// <summary>A placement undone (its batch lost): out of both views.</summary>
    internal void Withdraw(HeldCall call)
    {
        lock (_lock)
        {
            if (_calls.TryGetValue(call.Id, out var held) && ReferenceEquals(held, call))
            {
                _calls.Remove(call.Id);
                Move(_accounts, _counters, call, -1);
                Move(_shownAccounts, _shownCounters, call, -1);
            }
        }
    }

    /// <summary>Ends hold <paramref name="id"/> (when it is <paramref name="expected"/>, or any) in the writer's view; the call, or null.</summary>
    internal HeldCall? End(string id, HeldCall? expected = null)
    {
        lock (_lock)
        {
            if (!_calls.TryGetValue(id, out var call) || (expected is not null && !ReferenceEquals(call, expected)))
            {
                return null;
            }
            _calls.Remove(id);
            Move(_accounts, _counters, call, -1);
            return call;
        }
    }

    /// <summary>An end undone (its batch lost): back in the writer's view.</summary>
    internal void Restore(HeldCall call)
    {
        lock (_lock)
        {
            if (_calls.TryAdd(call.Id, call))
            {
                Move(_accounts, _counters, call, +1);
            }
        }
    }

    /// <summary>An end committed: out of the readers' view too.</summary>
    internal void Unshow(HeldCall call)
    {
        lock (_lock)
        {
            Move(_shownAccounts, _shownCounters, call, -1);
        }
    }

    private long Read(Dictionary<string, long> totals, string key)
    {
        lock (_lock)
        {
            return totals.GetValueOrDefault(key);
        }
    }

    private static void Move(Dictionary<string, long> accounts, Dictionary<string, long> counters, HeldCall call, int sign)
    {
        Add(accounts, call.Source, sign * call.Amount);
        foreach (var cap in call.Caps)
        {
            Add(counters, cap.Key, sign * cap.Amount.Micros);
        }
    }

    private static void Add(Dictionary<string, long> totals, string key, long delta)
    {
        var total = totals.GetValueOrDefault(key) + delta;
        if (total == 0)
        {
            totals.Remove(key);
        }
        else
        {
            totals[key] = total;
        }
    }
}
