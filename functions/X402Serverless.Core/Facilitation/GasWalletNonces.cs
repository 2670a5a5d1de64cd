using System.Numerics;

namespace X402Serverless.Core.Facilitation;

/// <summary>
/// The gas wallet's nonces on one chain, handed out locally so that settlements are signed and sent side by side
/// instead of one round trip chain after another. The count starts from the chain's pending count (the first use
/// after a start, so a restart continues after whatever it left in the node's pool) and never moves back on its own:
/// a nonce whose transaction the node refused is returned and handed out again first, so no gap stays behind it.
/// </summary>
internal sealed class GasWalletNonces : IDisposable
{
    private readonly SemaphoreSlim _sync = new(1, 1);
    private readonly Lock _state = new();
    private readonly SortedSet<BigInteger> _returned = [];
    private BigInteger _next;
    private bool _synced;

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
            if (_returned.Count > 0)
            {
                var lowest = _returned.Min;
                _returned.Remove(lowest);
                return lowest;
            }
            return _next++;
        }
    }

    /// <summary>A nonce no transaction of ours holds (the node refused it): the next taker gets it.</summary>
    public void Return(BigInteger nonce)
    {
        lock (_state)
        {
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

    public void Dispose() => _sync.Dispose();
}
