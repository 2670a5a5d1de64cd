using System.Collections.Concurrent;
using System.Numerics;
using X402Serverless.Core.Chain;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Networks;

namespace X402Serverless.Core.Facilitation;

/// <summary>
/// Settles EIP-3009 transfers by payers without code several to a transaction, group-commit style: per chain, whoever
/// finds no send under way sends at once, and the transfers that arrive meanwhile go together in the next transaction,
/// one Multicall3 <c>aggregate3</c> call with <c>allowFailure</c> per transfer (up to
/// <see cref="BuiltInFacilitatorOptions.MaxBatchTransfers"/>, within <see cref="BuiltInFacilitatorOptions.MaxBatchGas"/>).
/// A send waits to fill its batch only for settlements already on their way (<see cref="Expect"/>: checks under way), and
/// at most <see cref="BuiltInFacilitatorOptions.BatchGatherWindow"/>: a lone transfer is sent at once, alone, to the
/// token, exactly as without batching. A batch is
/// only a carrier: each payment still counts only when the receipt shows its own transfer (<see cref="TransferProof"/>),
/// and a transfer that failed inside a batch is sent again alone by the caller, never reported settled.
/// Used only where the chain has code at the network's Multicall3 address (read once per chain).
/// </summary>
internal sealed class SettlementBatches(GasWalletSender sender, BuiltInFacilitatorOptions options, TimeProvider time)
{
    /// <summary>One transfer waiting for a transaction: its call data and gas limit (within its ceiling), and who waits for the hash.</summary>
    internal sealed record Waiting(EvmRpcClient Rpc, EvmNetwork Network, byte[] Data, BigInteger GasEstimate, long MaxGas, string Key,
        TaskCompletionSource<Sent> Done)
    {
        public BigInteger GasLimit => BigInteger.Min(GasEstimates.LimitOf(GasEstimate), MaxGas);
    }

    /// <summary>The failure of a batch the node refused as a whole: its transfers are each sent alone instead.</summary>
    public const string BatchRefused = "batch_refused";

    /// <summary>The transaction that carries a transfer, or why none does; <see cref="Transfers"/>: how many it carries.</summary>
    public readonly record struct Sent(string? Hash, string? Failure, int Transfers);

    internal sealed class Lane
    {
        public readonly Lock Sync = new();
        public readonly List<Waiting> Queue = [];
        public bool Sending;

        /// <summary>Settlements on their way here (<see cref="Expect"/>), not queued and not turned away yet.</summary>
        public int Arriving;

        /// <summary>Completed (and replaced) whenever one of those arrives or turns away, for a send gathering its batch.</summary>
        public TaskCompletionSource Changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void SignalLocked()
        {
            var changed = Changed;
            Changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
            changed.TrySetResult();
        }
    }

    /// <summary>
    /// A batchable settlement whose checks are under way on a chain: the lane's next send may wait for it (within the
    /// gather window) until it is queued, or it turns away (disposed: refused, sent alone, or its checks failed).
    /// </summary>
    internal sealed class Arrival : IDisposable
    {
        private readonly Lane _lane;
        private bool _left;

        internal Arrival(Lane lane) => _lane = lane;

        internal void LeaveLocked()
        {
            if (!_left)
            {
                _left = true;
                _lane.Arriving--;
                _lane.SignalLocked();
            }
        }

        public void Dispose()
        {
            lock (_lane.Sync)
            {
                LeaveLocked();
            }
        }
    }

    private readonly ConcurrentDictionary<long, Lane> _lanes = new();
    private readonly ConcurrentDictionary<long, Task<bool>> _multicall = new();

    /// <summary>How many transfers wait on this chain for the send under way to finish (for tests).</summary>
    internal int Queued(long chainId)
    {
        if (!_lanes.TryGetValue(chainId, out var lane))
        {
            return 0;
        }
        lock (lane.Sync)
        {
            return lane.Queue.Count;
        }
    }

    /// <summary>Counts a settlement on its way to this chain's lane, from the start of its checks (see <see cref="Arrival"/>).</summary>
    public Arrival Expect(long chainId)
    {
        var lane = _lanes.GetOrAdd(chainId, _ => new Lane());
        lock (lane.Sync)
        {
            lane.Arriving++;
        }
        return new Arrival(lane);
    }

    /// <summary>Sends this transfer, alone or with others that arrive while a send is under way.</summary>
    /// <param name="arrival">This settlement's <see cref="Expect"/>, if it was counted: it arrives as it is queued.</param>
    public async Task<Sent> SendAsync(EvmRpcClient rpc, EvmNetwork network, byte[] data, BigInteger gasEstimate, long maxGas, CancellationToken cancellationToken,
        Arrival? arrival = null)
    {
        if (options.MaxBatchTransfers <= 1 || !await HasMulticallAsync(rpc, network, cancellationToken))
        {
            arrival?.Dispose(); // not joining a batch: no send waits for it
            var (hash, failure) = await sender.SendAsync(rpc, network, data, gasEstimate, maxGas, cancellationToken);
            return new Sent(hash, failure, 1);
        }
        var key = GasWalletSender.KeyOf(network, network.Asset, data);
        if (await sender.InFlightAsync(rpc, network, key, cancellationToken) is { } before)
        {
            arrival?.Dispose(); // a retry joins no batch (else a replay could hold every send for its receipt wait)
            return new Sent(before, null, 0); // a retry while its first send is in flight: how many that carries is not known here
        }
        var waiting = new Waiting(rpc, network, data, gasEstimate, maxGas, key, new TaskCompletionSource<Sent>(TaskCreationOptions.RunContinuationsAsynchronously));
        var lane = _lanes.GetOrAdd(network.ChainId, _ => new Lane());
        bool lead;
        lock (lane.Sync)
        {
            lane.Queue.Add(waiting);
            arrival?.LeaveLocked();
            lead = !lane.Sending;
            lane.Sending = true;
        }
        if (lead)
        {
            // The lane was idle, so this transfer heads the queue and goes now, on the caller's own task; whatever
            // queued meanwhile is sent by a task of its own, so this caller is not kept to send others' batches.
            if (await SendNextAsync(lane))
            {
                _ = Task.Run(() => DrainAsync(lane), CancellationToken.None);
            }
        }
        try
        {
            return await waiting.Done.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            lock (lane.Sync)
            {
                if (lane.Queue.Remove(waiting))
                {
                    throw; // still queued: nothing was sent for it
                }
            }
            // Already taken into a transaction being sent: the caller must learn its hash (to record it) before giving up,
            // or a payment released for want of one could be paid by that transaction afterwards. The send is bounded by
            // the node client's own timeouts.
            return await waiting.Done.Task;
        }
    }

    private async Task DrainAsync(Lane lane)
    {
        while (await SendNextAsync(lane))
        {
        }
    }

    /// <summary>Sends the next transaction's worth of the queue; true when more waits (the lane stays marked as sending).</summary>
    private async Task<bool> SendNextAsync(Lane lane)
    {
        await GatherAsync(lane);
        List<Waiting> batch;
        lock (lane.Sync)
        {
            batch = Take(lane.Queue);
        }
        try
        {
            if (batch.Count > 0) // every caller queued for it may have given up while it gathered
            {
                await SendBatchAsync(batch);
            }
        }
        catch (RpcException) when (batch.DistinctBy(w => w.Key).Skip(1).Any())
        {
            // The node refused the batch itself (its nonce is filled): its transfers are sent alone, each on its own merits.
            foreach (var waiting in batch)
            {
                waiting.Done.TrySetResult(new Sent(null, BatchRefused, 0));
            }
        }
        catch (Exception e)
        {
            foreach (var waiting in batch)
            {
                waiting.Done.TrySetException(e);
            }
        }
        lock (lane.Sync)
        {
            if (lane.Queue.Count == 0)
            {
                lane.Sending = false;
                return false;
            }
            return true;
        }
    }

    /// <summary>
    /// Before a send, waits for the settlements already on their way (checks under way) to queue, while the batch has
    /// room, for at most the gather window: one settlement alone, or none on its way, is sent at once. On a chain that
    /// mines on arrival the checks of the settlements behind a send finish just after it, so without this their
    /// transfers straggle into batches of one or two, each a block of its own.
    /// </summary>
    private async Task GatherAsync(Lane lane)
    {
        if (options.BatchGatherWindow <= TimeSpan.Zero)
        {
            return;
        }
        // One timer for the whole wait: arrivals signalling again and again cannot extend it, nor a clock set back.
        using var window = new CancellationTokenSource(options.BatchGatherWindow, time);
        while (true)
        {
            Task changed;
            lock (lane.Sync)
            {
                if (lane.Arriving <= 0 || lane.Queue.Count >= options.MaxBatchTransfers)
                {
                    return;
                }
                changed = lane.Changed.Task;
            }
            try
            {
                await changed.WaitAsync(window.Token);
            }
            catch (OperationCanceledException) when (window.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>The first waiting transfers, up to the batch size and gas ceiling (at least one), taken off the queue.</summary>
    private List<Waiting> Take(List<Waiting> queue)
    {
        var batch = new List<Waiting>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        BigInteger gas = 0;
        var taken = 0;
        foreach (var waiting in queue)
        {
            var repeat = keys.Contains(waiting.Key); // the same transfer twice rides along, paying no more gas
            if (!repeat && batch.Count > 0 && (keys.Count >= options.MaxBatchTransfers || gas + waiting.GasLimit > options.MaxBatchGas))
            {
                break;
            }
            if (!repeat)
            {
                keys.Add(waiting.Key);
                gas += waiting.GasLimit;
            }
            batch.Add(waiting);
            taken++;
        }
        queue.RemoveRange(0, taken);
        return batch;
    }

    private async Task SendBatchAsync(List<Waiting> batch)
    {
        var first = batch[0];
        var distinct = batch.DistinctBy(w => w.Key).ToList();
        Sent sent;
        if (distinct.Count == 1)
        {
            // Alone: to the token, exactly as without batching.
            var (hash, failure) = await sender.SendAsync(first.Rpc, first.Network, first.Data, first.GasEstimate, first.MaxGas, CancellationToken.None);
            sent = new Sent(hash, failure, 1);
        }
        else
        {
            // Each call's own limit already counts the 21,000 of a transaction and its call data, which inside the batch
            // it does not pay again: their sum covers the batch with room to spare (measured on anvil: a transfer takes
            // about 48,000–50,000 gas in a batch of 8–16, 68,800 alone, and each limit is a quarter over that).
            var gasLimit = distinct.Aggregate(BigInteger.Zero, (sum, w) => sum + w.GasLimit);
            var data = Multicall3Calls.Aggregate3AllowingFailure([.. distinct.Select(w => (w.Network.Asset, w.Data))]);
            var (hash, failure) = await sender.SendBatchAsync(first.Rpc, first.Network, first.Network.Multicall3, data, gasLimit,
                [.. distinct.Select(w => w.Key)], CancellationToken.None);
            sent = new Sent(hash, failure, distinct.Count);
        }
        foreach (var waiting in batch)
        {
            waiting.Done.TrySetResult(sent);
        }
    }

    /// <summary>
    /// Whether the network's Multicall3 address answers as Multicall3 does: an empty <c>aggregate3</c> call returns an
    /// empty result array (any other code there, or none, would leave every batch undone). Asked once per chain (the
    /// first batchable settlement waits for it); a read that fails in any way sends this transfer alone and is asked
    /// again by the next one.
    /// </summary>
    private async ValueTask<bool> HasMulticallAsync(EvmRpcClient rpc, EvmNetwork network, CancellationToken cancellationToken)
    {
        var check = _multicall.GetOrAdd(network.ChainId, _ => ProbeAsync(rpc, network.Multicall3));
        try
        {
            return await check.WaitAsync(cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            _multicall.TryRemove(new KeyValuePair<long, Task<bool>>(network.ChainId, check));
            return false;
        }
    }

    private static async Task<bool> ProbeAsync(EvmRpcClient rpc, EvmAddress multicall3)
    {
        try
        {
            var answer = await rpc.EthCallAsync(multicall3, multicall3, Multicall3Calls.Aggregate3AllowingFailure([]), CancellationToken.None);
            // ABI: the offset of the result array (32), then its length (0).
            return answer.Length == 64 && answer.AsSpan(0, 32).SequenceEqual(AbiWord.UInt256(32)) && answer.AsSpan(32).IndexOfAnyExcept((byte)0) < 0;
        }
        catch (RpcException e) when (e.RevertData is not null || e.Message.Contains("revert", StringComparison.OrdinalIgnoreCase))
        {
            return false; // reverted: not Multicall3 there, no batching on this chain (any other error is asked again)
        }
    }
}
