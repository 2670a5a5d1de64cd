using System.Numerics;
using X402Serverless.Core.Evm;

namespace X402Serverless.Core.Facilitation;

/// <summary>
/// The gas wallet's nonces on one chain, handed out locally so that settlements are signed and sent side by side
/// instead of one round trip chain after another. The count starts from the chain's pending count (the first use
/// after a start, so a restart continues after whatever it left in the node's pool) and never moves back on its own:
/// a nonce whose transaction the node refused is returned and handed out again first, so no gap stays behind it.
/// Every nonce the node took keeps its signed transaction until it is mined, so one the node later drops can be sent again
/// (<see cref="Missing"/>) and a retried settlement resends its own transaction instead of opening another nonce.
/// One the node holds but does not mine (a fee the chain has outgrown, or a pool that lost track of it: anvil's
/// automine can leave a transaction queued at the account's own nonce) is replaced at higher fees (<see cref="StuckHead"/>),
/// and receipt waits follow the replacement (<see cref="Lineage"/>).
/// </summary>
internal sealed class GasWalletNonces : IDisposable
{
    /// <summary>
    /// A nonce in flight: its signed bytes (null while its send is under way), for a settlement the calldata key of each
    /// transfer it carries (several for a batch), the transaction itself (to sign again at higher fees), when the node
    /// took it, and the hashes it replaced.
    /// </summary>
    private sealed record Held(byte[]? Raw, string? Hash, IReadOnlyList<string>? Keys, Eip1559Transaction? Transaction = null, DateTimeOffset SentAt = default,
        string[]? Replaced = null);

    private static readonly Held UnderWay = new(null, null, null);

    private readonly SemaphoreSlim _sync = new(1, 1);
    private readonly Lock _state = new();
    private readonly SortedSet<BigInteger> _returned = [];
    private readonly SortedDictionary<BigInteger, Held> _held = [];
    private readonly Dictionary<string, BigInteger> _byKey = new(StringComparer.Ordinal);

    /// <summary>Every hash sent for a nonce still held, replaced ones included, so a confirmation of any of them finds the nonce.</summary>
    private readonly Dictionary<string, BigInteger> _byHash = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// A replaced hash and its replacement, kept apart from the nonces in flight: a wait on the first may learn of the
    /// second only after a later transaction's confirmation forgot the nonce. Replacements are rare; an hour is kept.
    /// </summary>
    private readonly Dictionary<string, (string By, DateTimeOffset At)> _replacedBy = new(StringComparer.OrdinalIgnoreCase);
    private BigInteger _next;
    private bool _synced;
    private int _checking;

    /// <summary>When the chain's counts were last compared with ours (see <see cref="TryBeginCheck"/>).</summary>
    private DateTimeOffset _checkedAt = DateTimeOffset.MinValue;

    /// <summary>The lowest returned nonce, else the next one; the chain is asked only before the first.</summary>
    public async Task<BigInteger> TakeAsync(Func<CancellationToken, Task<BigInteger>> chainPending, CancellationToken cancellationToken)
    {
        if (!Volatile.Read(ref _synced))
        {
            await _sync.WaitAsync(cancellationToken);
            try
            {
                if (!_synced)
                {
                    var pending = await chainPending(cancellationToken);
                    lock (_state)
                    {
                        _next = BigInteger.Max(_next, pending);
                        Volatile.Write(ref _synced, true);
                    }
                }
            }
            finally
            {
                _sync.Release();
            }
        }
        lock (_state)
        {
            var nonce = _returned.Count > 0 ? _returned.Min : _next++;
            _returned.Remove(nonce);
            _held[nonce] = UnderWay; // a send is under way: a gap check leaves it to its sender
            return nonce;
        }
    }

    /// <summary>The transaction the node took for a nonce, kept to send again should the node lose it.</summary>
    public void Hold(BigInteger nonce, byte[] raw, string hash, IReadOnlyList<string>? keys, Eip1559Transaction transaction, DateTimeOffset sentAt)
    {
        lock (_state)
        {
            Forget(nonce);
            _held[nonce] = new Held(raw, hash, keys, transaction, sentAt);
            _byHash[hash] = nonce;
            foreach (var key in keys ?? [])
            {
                _byKey[key] = nonce;
            }
        }
    }

    /// <summary>
    /// The oldest nonce the chain has not mined (<paramref name="chainLatest"/>), when ours holds it with a transaction
    /// the node took at least <paramref name="after"/> ago: every later transaction of the wallet waits behind it.
    /// </summary>
    public (BigInteger Nonce, string Hash, Eip1559Transaction Transaction, bool ReplacedBefore)? StuckHead(BigInteger chainLatest, DateTimeOffset now, TimeSpan after)
    {
        lock (_state)
        {
            return _held.TryGetValue(chainLatest, out var held) && held is { Hash: { } hash, Transaction: { } transaction } && now - held.SentAt >= after
                ? (chainLatest, hash, transaction, held.Replaced is { Length: > 0 })
                : null;
        }
    }

    /// <summary>
    /// A replacement about to be sent for <paramref name="replacedHash"/>: waits on the old hash follow it from now on,
    /// since a chain that mines on arrival may mine it, and the transactions behind it, before its send returns.
    /// </summary>
    public void Replacing(string replacedHash, string hash, DateTimeOffset now)
    {
        lock (_state)
        {
            foreach (var old in _replacedBy.Where(r => now - r.Value.At > TimeSpan.FromHours(1)).Select(r => r.Key).ToList())
            {
                _replacedBy.Remove(old);
            }
            _replacedBy[replacedHash] = (hash, now);
        }
    }

    /// <summary>The replacement announced by <see cref="Replacing"/> never reached the node: waits stop looking for it.</summary>
    public void NotReplaced(string replacedHash, string hash)
    {
        lock (_state)
        {
            if (_replacedBy.TryGetValue(replacedHash, out var by) && by.By == hash)
            {
                _replacedBy.Remove(replacedHash);
            }
        }
    }

    /// <summary>
    /// The node took the replacement: kept in place of <paramref name="replacedHash"/> to resend or replace again, unless
    /// the nonce was mined or changed hands meanwhile.
    /// </summary>
    public void Replace(BigInteger nonce, string replacedHash, byte[] raw, string hash, Eip1559Transaction transaction, DateTimeOffset sentAt)
    {
        lock (_state)
        {
            if (_held.TryGetValue(nonce, out var held) && held.Hash == replacedHash)
            {
                _held[nonce] = held with { Raw = raw, Hash = hash, Transaction = transaction, SentAt = sentAt, Replaced = [.. held.Replaced ?? [], replacedHash] };
                _byHash[hash] = nonce;
            }
        }
    }

    /// <summary>
    /// The transactions that replaced <paramref name="hash"/>, newest first, then itself: any of them may be the one
    /// mined. Just the hash itself unless it was replaced.
    /// </summary>
    public IReadOnlyList<string> Lineage(string hash)
    {
        lock (_state)
        {
            if (!_replacedBy.ContainsKey(hash))
            {
                return [hash];
            }
            var lineage = new List<string> { hash };
            while (lineage.Count < 64 && _replacedBy.TryGetValue(lineage[^1], out var next))
            {
                lineage.Add(next.By);
            }
            lineage.Reverse();
            return lineage;
        }
    }

    /// <summary>The transaction in flight carrying this calldata (a settlement retried while its first send, alone or in a batch, is unmined), if any.</summary>
    public (BigInteger Nonce, byte[] Raw, string Hash)? HeldFor(string key)
    {
        lock (_state)
        {
            return _byKey.TryGetValue(key, out var nonce) && _held.TryGetValue(nonce, out var held) && held.Raw is not null
                ? (nonce, held.Raw, held.Hash!)
                : null;
        }
    }

    /// <summary>Our transaction at this nonce is gone for good (another holds the nonce): it is no longer resent.</summary>
    public void Drop(BigInteger nonce)
    {
        lock (_state)
        {
            Forget(nonce);
        }
    }

    /// <summary>A nonce no transaction of ours holds (the node refused it): the next taker gets it.</summary>
    public void Return(BigInteger nonce)
    {
        lock (_state)
        {
            Forget(nonce);
            if (nonce < _next)
            {
                _returned.Add(nonce);
            }
        }
    }

    /// <summary>
    /// The node says a nonce of ours is used (another sender with this key, or transactions a previous process left):
    /// move up to its pending count, never back, since lower nonces handed out may still be on their way to the node.
    /// </summary>
    public void CatchUp(BigInteger chainPending)
    {
        lock (_state)
        {
            _next = BigInteger.Max(_next, chainPending);
            _returned.RemoveWhere(n => n < chainPending);
        }
    }

    /// <summary>Our transaction with this hash is mined: it and every lower nonce need no resending.</summary>
    public void Confirmed(string hash)
    {
        lock (_state)
        {
            if (_byHash.TryGetValue(hash, out var nonce))
            {
                MinedBelow(nonce + 1);
            }
        }
    }

    /// <summary>
    /// The nonces between the chain's pending count and ours that no transaction of ours is known to hold in the pool
    /// (the node dropped it, or a returned nonce nobody took): each with the bytes to send again, or none (a filler then).
    /// Nonces below the chain's latest count are mined and forgotten; a send under way is left to its sender.
    /// </summary>
    public IReadOnlyList<(BigInteger Nonce, byte[]? Raw, string? Hash)> Missing(BigInteger chainLatest, BigInteger chainPending)
    {
        lock (_state)
        {
            MinedBelow(chainLatest);
            var missing = new List<(BigInteger, byte[]?, string?)>();
            for (var nonce = BigInteger.Max(chainLatest, chainPending); nonce < _next; nonce++)
            {
                if (_returned.Remove(nonce))
                {
                    _held[nonce] = UnderWay; // taken by the check, which fills it
                    missing.Add((nonce, null, null));
                }
                else if (!_held.TryGetValue(nonce, out var held))
                {
                    missing.Add((nonce, null, null));
                }
                else if (held.Raw is not null)
                {
                    missing.Add((nonce, held.Raw, held.Hash));
                }
            }
            return missing;
        }
    }

    /// <summary>One gap check per chain at a time, and at most one per interval however many receipt waits ask.</summary>
    public bool TryBeginCheck(DateTimeOffset now, TimeSpan interval)
    {
        lock (_state)
        {
            if (_checking != 0 || now - _checkedAt < interval || !_synced)
            {
                return false;
            }
            _checking = 1;
            _checkedAt = now;
            return true;
        }
    }

    public void EndCheck()
    {
        lock (_state)
        {
            _checking = 0;
        }
    }

    private void MinedBelow(BigInteger count)
    {
        while (_held.Count > 0 && _held.First() is var (nonce, _) && nonce < count)
        {
            Forget(nonce);
        }
    }

    private void Forget(BigInteger nonce)
    {
        if (!_held.Remove(nonce, out var held))
        {
            return;
        }
        foreach (var key in held.Keys ?? [])
        {
            if (_byKey.TryGetValue(key, out var n) && n == nonce)
            {
                _byKey.Remove(key);
            }
        }
        if (held.Hash is not null)
        {
            _byHash.Remove(held.Hash);
        }
        foreach (var replaced in held.Replaced ?? [])
        {
            _byHash.Remove(replaced);
        }
    }

    public void Dispose() => _sync.Dispose();
}
