using System.Collections.Concurrent;

namespace X402Serverless.AzureStorage.Tables;

/// <summary>
/// One read-modify-write at a time per hot row within this process. Calls of one payer at once (or the earnings of
/// one provider) otherwise all read the row's ETag, one wins, and the rest back off at random and read again: with
/// sixteen calls at once the unlucky ones lost again and again (p99 1.2 s on the emulator, 0.3 s taking turns).
/// Here they queue and each finds the row as the one before left it. The ETag stays the guard, against other processes (scaled-out instances) and anything else.
/// One gate per key while anyone holds or waits for it, so keys never accumulate and a cold row never waits behind a
/// hot one. A holder never waits for another gate, so gates cannot deadlock.
/// </summary>
internal sealed class RowGates
{
    private readonly ConcurrentDictionary<string, Gate> _gates = new(StringComparer.Ordinal);

    // A writer kept waiting this long (a row held by a stalled call) races on the ETag as if there were no gate: a
    // stalled holder slows the others, never stops them.
    private readonly TimeSpan _maxWait;

    public RowGates(TimeSpan? maxWait = null) => _maxWait = maxWait ?? TimeSpan.FromSeconds(10);

    /// <summary>Waits for the key's turn (ten seconds at most, then an empty turn); disposing the result ends it.</summary>
    public async ValueTask<Turn> EnterAsync(string key, CancellationToken cancellationToken)
    {
        var gate = Join(key);
        bool entered;
        try
        {
            entered = await gate.Semaphore.WaitAsync(_maxWait, cancellationToken);
        }
        catch
        {
            Leave(key, gate);
            throw;
        }
        if (!entered)
        {
            Leave(key, gate);
            return default;
        }
        return new Turn(this, key, gate);
    }

    /// <summary>How many keys have a gate now (for tests: none once nobody holds or waits).</summary>
    internal int Count => _gates.Count;

    private Gate Join(string key)
    {
        while (true)
        {
            var gate = _gates.GetOrAdd(key, static _ => new Gate());
            lock (gate)
            {
                if (!gate.Removed)
                {
                    gate.Users++;
                    return gate;
                }
            }
            // Its last user removed it just now: take the key's next gate.
        }
    }

    private void Leave(string key, Gate gate)
    {
        lock (gate)
        {
            if (--gate.Users == 0)
            {
                gate.Removed = true;
                _gates.TryRemove(new KeyValuePair<string, Gate>(key, gate));
                gate.Dispose(); // nobody holds or waits for it, and nobody can join it now
            }
        }
    }

    internal sealed class Gate : IDisposable
    {
        public readonly SemaphoreSlim Semaphore = new(1, 1);
        public int Users;
        public bool Removed;

        public void Dispose() => Semaphore.Dispose();
    }

    /// <summary>A turn on a row; the default one (the wait ran out) holds nothing.</summary>
    public readonly struct Turn : IDisposable
    {
        /// <summary>Whether this turn holds its row's gate (false: the wait ran out).</summary>
        public bool Held => _owner is not null;

        private readonly RowGates? _owner;
        private readonly string? _key;
        private readonly Gate? _gate;

        internal Turn(RowGates owner, string key, Gate gate) => (_owner, _key, _gate) = (owner, key, gate);

        public void Dispose()
        {
            if (_owner is not null)
            {
                _gate!.Semaphore.Release();
                _owner.Leave(_key!, _gate);
            }
        }
    }
}
