using X402Serverless.Core.Ledger;

namespace X402Serverless.Sqlite;

/// <summary>
/// The holds of calls in flight, kept in memory beside the database's one writer instead of written as rows: a hold
/// is placed, captured and released by operations of that writer (<see cref="SqliteGroupCommit"/>), which see every
/// write before theirs, so the amounts reserved here and the balances in the file are read as one. Only a capture
/// writes (one entry, payer to provider). A restart forgets the holds, which is what releasing them would do: a call
/// that never answered is not charged (docs/credit-holds.md).
/// </summary>
public sealed class SqliteHeldMoney
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, HeldCall> _calls = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _accounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _counters = new(StringComparer.Ordinal);

    /// <summary>
    /// One call's hold: <paramref name="Floor"/> is its source's floor when placed (a credit limit lowered since does
    /// not make a placed hold uncapturable), <paramref name="Caps"/> the counters it reserved.
    /// </summary>
    public sealed record HeldCall(string Id, string Source, long Amount, long Floor, IReadOnlyList<CapCheck> Caps, DateTimeOffset PlacedAt);

    /// <summary>Micro-units held from <paramref name="account"/> by calls in flight.</summary>
    public long OnAccount(string account)
    {
        lock (_lock)
        {
            return _accounts.GetValueOrDefault(account);
        }
    }

    /// <summary>Micro-units reserved on cap counter <paramref name="key"/> by calls in flight.</summary>
    public long OnCounter(string key)
    {
        lock (_lock)
        {
            return _counters.GetValueOrDefault(key);
        }
    }

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

    internal bool TryAdd(HeldCall call)
    {
        lock (_lock)
        {
            if (!_calls.TryAdd(call.Id, call))
            {
                return false;
            }
            Move(_accounts, call.Source, call.Amount);
            foreach (var cap in call.Caps)
            {
                Move(_counters, cap.Key, cap.Amount.Micros);
            }
            return true;
        }
    }

    /// <summary>Ends hold <paramref name="id"/> when it is <paramref name="expected"/> (or any, when null); the call ended, or null.</summary>
    internal HeldCall? Remove(string id, HeldCall? expected = null)
    {
        lock (_lock)
        {
            if (!_calls.TryGetValue(id, out var call) || (expected is not null && !ReferenceEquals(call, expected)))
            {
                return null;
            }
            _calls.Remove(id);
            Move(_accounts, call.Source, -call.Amount);
            foreach (var cap in call.Caps)
            {
                Move(_counters, cap.Key, -cap.Amount.Micros);
            }
            return call;
        }
    }

    private static void Move(Dictionary<string, long> totals, string key, long delta)
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
