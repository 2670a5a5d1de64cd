using System.Collections.Concurrent;
using X402Serverless.Core.Chain;

namespace X402Serverless.Core.Facilitation;

/// <summary>
/// Receipt reads shared by the settlements waiting on one batch transaction: a wait that asks while another's read of
/// the same hash is under way, or finds a fresh answer, takes that one instead of asking the node again. A receipt once
/// found is kept a short while (every waiter on the batch reads it once); "not mined yet" only for
/// <see cref="BuiltInFacilitatorOptions.ReceiptFirstPoll"/>, so no wait sees it later than its own poll would. Old
/// answers are swept at most once per <see cref="KeptFound"/>, so the map stays a few seconds of batches.
/// </summary>
internal sealed class SharedReceipts(TimeProvider time, BuiltInFacilitatorOptions options)
{
    private static readonly TimeSpan KeptFound = TimeSpan.FromSeconds(2);

    private readonly Lock _sweep = new();
    private DateTimeOffset _sweptAt;

    private sealed record Read(Task<TransactionReceipt?> Receipt, DateTimeOffset At);

    private readonly ConcurrentDictionary<(long ChainId, string Hash), Read> _reads = new();

    public Task<TransactionReceipt?> GetAsync(EvmRpcClient rpc, long chainId, string hash, CancellationToken cancellationToken)
    {
        var key = (chainId, hash.ToLowerInvariant());
        var now = time.GetUtcNow();
        while (true)
        {
            if (_reads.TryGetValue(key, out var read) && Usable(read, now))
            {
                return read.Receipt.WaitAsync(cancellationToken);
            }
            // Not the caller's token: the read is shared, and one waiter giving up must not fail the others.
            var fresh = new Read(rpc.GetReceiptAsync(hash, CancellationToken.None), now);
            if (read is null ? _reads.TryAdd(key, fresh) : _reads.TryUpdate(key, fresh, read))
            {
                Prune(now);
                return fresh.Receipt.WaitAsync(cancellationToken);
            }
        }
    }

    private bool Usable(Read read, DateTimeOffset now)
    {
        if (!read.Receipt.IsCompleted)
        {
            return true;
        }
        if (!read.Receipt.IsCompletedSuccessfully)
        {
            return false;
        }
        return now - read.At < (read.Receipt.Result is null ? options.ReceiptFirstPoll : KeptFound);
    }

    private void Prune(DateTimeOffset now)
    {
        lock (_sweep)
        {
            if (now - _sweptAt < KeptFound)
            {
                return;
            }
            _sweptAt = now;
        }
        foreach (var (key, read) in _reads)
        {
            if (read.Receipt.IsCompleted && now - read.At >= KeptFound)
            {
                _reads.TryRemove(new KeyValuePair<(long, string), Read>(key, read));
            }
        }
    }
}
