using System.Collections.Concurrent;
using System.Numerics;
using X402Serverless.Core.Chain;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Networks;

namespace X402Serverless.Core.Facilitation;

/// <summary>
/// Signs and sends the gas wallet's transactions, pipelined: fees come from a per-chain quote refreshed at most once
/// per <see cref="BuiltInFacilitatorOptions.FeeCacheTtl"/>, nonces from <see cref="GasWalletNonces"/> under a short
/// lock, and signing and sending run side by side. Every nonce handed out ends held by a transaction in the node's
/// pool: ours, or, when the node refused ours, a no-op filler, so one failed send never stalls the ones behind it.
/// </summary>
internal sealed class GasWalletSender(GasWallet wallet, BuiltInFacilitatorOptions options, TimeProvider time) : IDisposable
{
    private const int FillGas = 21_000;

    private readonly ConcurrentDictionary<long, GasWalletNonces> _nonces = new();
    private readonly ConcurrentDictionary<long, GasFees> _fees = new();

    /// <summary>The node refused for lack of gas money: the operator must top the wallet up, the payer did nothing wrong.</summary>
    public static bool IsUnderfunded(RpcException e) =>
        e.Message.Contains("insufficient funds", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("gas required exceeds allowance", StringComparison.OrdinalIgnoreCase);

    /// <summary>The node already holds this very transaction (geth: "already known"; anvil: "already imported"; Besu: "Known
    /// transaction"; Nethermind: "AlreadyKnown").</summary>
    private static bool NodeHasIt(RpcException e) =>
        e.Message.Contains("already known", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("already imported", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("known transaction", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("AlreadyKnown", StringComparison.OrdinalIgnoreCase);

    /// <summary>The nonce is held by another transaction, mined ("nonce too low"; Nethermind "OldNonce") or in the pool
    /// ("replacement ... underpriced").</summary>
    private static bool NonceTaken(RpcException e) =>
        e.Message.Contains("nonce too low", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("OldNonce", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("replacement transaction underpriced", StringComparison.OrdinalIgnoreCase);

    internal GasWalletNonces NoncesOf(long chainId) => _nonces.GetOrAdd(chainId, _ => new GasWalletNonces());

    /// <param name="gasEstimate">The node's estimate for <paramref name="data"/>, which the caller made as its revert pre-check.</param>
    /// <param name="maxGas">The gas limit is the estimate plus a quarter, never above this ceiling (the caller refused estimates over it).</param>
    public Task<(string? Hash, string? Failure)> SendAsync(EvmRpcClient rpc, EvmNetwork network, byte[] data, BigInteger gasEstimate, long maxGas,
        CancellationToken cancellationToken) =>
        SendAsync(rpc, network, network.Asset, data, gasEstimate, maxGas, cancellationToken);

    /// <summary>The same, to another contract than the token (an EIP-6492 wallet's factory, the Permit2 proxy).</summary>
    public async Task<(string? Hash, string? Failure)> SendAsync(EvmRpcClient rpc, EvmNetwork network, EvmAddress to, byte[] data, BigInteger gasEstimate,
        long maxGas, CancellationToken cancellationToken)
    {
        var (tip, maxFee) = await _fees.GetOrAdd(network.ChainId, _ => new GasFees(time, options.FeeCacheTtl)).GetAsync(rpc, cancellationToken);
        if (maxFee > options.MaxFeePerGas)
        {
            return (null, BuiltInFacilitator.GasPriceAboveCap);
        }
        var gas = BigInteger.Min(GasEstimates.LimitOf(gasEstimate), maxGas);
        var nonces = NoncesOf(network.ChainId);
        var key = KeyOf(network, to, data);
        if (await SentBeforeAsync(rpc, nonces, key, cancellationToken) is { } before)
        {
            return (before, null);
        }
        return await SignAndSendAsync(rpc, network, nonces, to, data, gas, [key], tip, maxFee, cancellationToken);
    }

    /// <summary>
    /// Several settlements in one transaction (a Multicall3 batch, <see cref="SettlementBatches"/>), with the gas limit the
    /// caller summed from the transfers' own; <paramref name="keys"/> are each transfer's own key (<see cref="KeyOf"/>), so
    /// a retry of any of them while the batch is in flight resends the batch (the caller asked <see cref="InFlightAsync"/> first).
    /// </summary>
    public async Task<(string? Hash, string? Failure)> SendBatchAsync(EvmRpcClient rpc, EvmNetwork network, EvmAddress to, byte[] data, BigInteger gasLimit,
        IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var (tip, maxFee) = await _fees.GetOrAdd(network.ChainId, _ => new GasFees(time, options.FeeCacheTtl)).GetAsync(rpc, cancellationToken);
        if (maxFee > options.MaxFeePerGas)
        {
            return (null, BuiltInFacilitator.GasPriceAboveCap);
        }
        return await SignAndSendAsync(rpc, network, NoncesOf(network.ChainId), to, data, gasLimit, keys, tip, maxFee, cancellationToken);
    }

    /// <summary>What a settlement's transaction is known by while in flight: its call data, and the contract when it is not the token.</summary>
    public static string KeyOf(EvmNetwork network, EvmAddress to, byte[] data) =>
        to == network.Asset ? Convert.ToHexString(data) : Convert.ToHexString(to.Bytes) + Convert.ToHexString(data);

    /// <summary>The transaction in flight that carries this settlement (alone or in a batch), sent again; null when there is none.</summary>
    public Task<string?> InFlightAsync(EvmRpcClient rpc, EvmNetwork network, string key, CancellationToken cancellationToken) =>
        SentBeforeAsync(rpc, NoncesOf(network.ChainId), key, cancellationToken);

    private async Task<(string? Hash, string? Failure)> SignAndSendAsync(EvmRpcClient rpc, EvmNetwork network, GasWalletNonces nonces, EvmAddress to,
        byte[] data, BigInteger gas, IReadOnlyList<string> keys, BigInteger tip, BigInteger maxFee, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var nonce = await nonces.TakeAsync(c => rpc.GetTransactionCountAsync(wallet.Address, c), cancellationToken);
            var transaction = new Eip1559Transaction(network.ChainId, nonce, tip, maxFee, gas, to, 0, data);
            var (raw, hash) = wallet.Sign(transaction);
            // Kept only once the node has it: until then the nonce is this send's own to fill or return, not a gap check's.
            (string?, string?) Sent()
            {
                nonces.Hold(nonce, raw, hash, keys, transaction, time.GetUtcNow());
                return (hash, null);
            }
            try
            {
                await rpc.SendRawTransactionAsync(raw, cancellationToken);
                return Sent();
            }
            catch (RpcException e) when (NodeHasIt(e))
            {
                return Sent();
            }
            catch (RpcException e) when (IsUnderfunded(e))
            {
                // Nothing this wallet sends can pass until it is funded; the next send after that takes the nonce back.
                nonces.Return(nonce);
                return (null, BuiltInFacilitator.GasWalletUnderfunded);
            }
            catch (RpcException e) when (NonceTaken(e))
            {
                // Another holder of this key, or what a previous process left in the pool: count on from the chain's.
                nonces.Drop(nonce);
                nonces.CatchUp(await rpc.GetTransactionCountAsync(wallet.Address, cancellationToken));
                if (attempt >= 2)
                {
                    throw;
                }
            }
            catch (RpcException)
            {
                if (await KnownAsync(rpc, hash))
                {
                    return Sent(); // refused in words the checks above do not know, but the node has it
                }
                // Refused for another reason: our transaction is not in the pool, so the nonce is filled before giving up.
                await FillAsync(rpc, network, nonces, nonce, tip, maxFee);
                throw;
            }
            catch (RpcUnavailableException) when (!cancellationToken.IsCancellationRequested)
            {
                // Whether the node got it is unknown: the same bytes again tell, and put it there if it did not.
                if (await ResendAsync(rpc, network, nonces, nonce, raw, hash, tip, maxFee))
                {
                    return Sent();
                }
                throw;
            }
            catch (Exception e) when (e is OperationCanceledException or RpcUnavailableException)
            {
                // Given up mid-send: if the node has it after all, the next taker of this nonce hears so and moves on.
                nonces.Return(nonce);
                throw;
            }
        }
    }

    /// <summary>
    /// A settlement retried while its first transaction is still in flight (not mined, perhaps dropped by the node):
    /// the same signed bytes again, so the retry neither opens a nonce behind a gap nor pays gas twice. Null when there
    /// is none, or another transaction took its nonce (then a new one is sent; the authorization still pays only once).
    /// </summary>
    private static async Task<string?> SentBeforeAsync(EvmRpcClient rpc, GasWalletNonces nonces, string key, CancellationToken cancellationToken)
    {
        if (nonces.HeldFor(key) is not var (nonce, raw, hash))
        {
            return null;
        }
        try
        {
            await rpc.SendRawTransactionAsync(raw, cancellationToken);
            return hash;
        }
        catch (RpcException e)
        {
            if (NodeHasIt(e) || await KnownAsync(rpc, hash))
            {
                return hash;
            }
            nonces.Drop(nonce);
            return null;
        }
    }

    /// <summary>
    /// Compares the chain's counts with ours and sends again what the node lost: a transaction it dropped from its pool
    /// (eviction, a restart without journal, another node behind a load balancer) leaves every later nonce waiting
    /// behind it, which no receipt wait alone would end. Its stored bytes go again, or a filler where none are stored.
    /// Called from receipt waits that take long; one check per chain at a time, at most one per <see cref="BuiltInFacilitatorOptions.GapCheckInterval"/>.
    /// </summary>
    public async Task CloseGapsAsync(EvmRpcClient rpc, EvmNetwork network, CancellationToken cancellationToken)
    {
        var nonces = NoncesOf(network.ChainId);
        if (!nonces.TryBeginCheck(time.GetUtcNow(), options.GapCheckInterval))
        {
            return;
        }
        try
        {
            var latest = rpc.GetTransactionCountAsync(wallet.Address, "latest", cancellationToken);
            var pending = rpc.GetTransactionCountAsync(wallet.Address, cancellationToken);
            var fees = _fees.GetOrAdd(network.ChainId, _ => new GasFees(time, options.FeeCacheTtl)).GetAsync(rpc, cancellationToken);
            // Every read before Missing, which claims the nonces it lists: past it nothing throws, so none is left claimed.
            await Task.WhenAll(latest, pending, fees);
            var (tip, maxFee) = await fees;
            var missing = nonces.Missing(await latest, await pending);
            foreach (var (nonce, raw, hash) in missing)
            {
                // A resend that fails fills the nonce itself.
                _ = raw is null
                    ? await FillAsync(rpc, network, nonces, nonce, tip, maxFee)
                    : await ResendAsync(rpc, network, nonces, nonce, raw, hash!, tip, maxFee);
            }
            if (nonces.StuckHead(await latest, time.GetUtcNow(), options.GapCheckInterval) is { } head)
            {
                await ReplaceAsync(rpc, nonces, head.Nonce, head.Hash, head.Transaction, head.ReplacedBefore, tip, maxFee);
            }
        }
        catch (RpcUnavailableException)
        {
            // The node is not answering: the next long wait checks again.
        }
        finally
        {
            nonces.EndCheck();
        }
    }

    /// <summary>Our transaction with this hash is mined: its bytes and those of lower nonces are not kept any more.</summary>
    public void Confirmed(long chainId, string hash) => NoncesOf(chainId).Confirmed(hash);

    /// <summary>The transactions sent in place of <paramref name="hash"/>, newest first, then itself (just itself unless a stuck one was replaced).</summary>
    public IReadOnlyList<string> Lineage(long chainId, string hash) => NoncesOf(chainId).Lineage(hash);

    /// <summary>
    /// The oldest unmined nonce is ours and the node has sat on it for a whole check interval: every later transaction
    /// waits behind it. The same call at higher fees replaces it (a fee the chain outgrew; a pool that lost track of it,
    /// as anvil's automine can with transactions that arrive out of nonce order). Only one of the two can be mined, and
    /// the authorization in both pays once whichever it is.
    /// </summary>
    private async Task ReplaceAsync(EvmRpcClient rpc, GasWalletNonces nonces, BigInteger nonce, string stuckHash, Eip1559Transaction stuck,
        bool replacedBefore, BigInteger tip, BigInteger maxFee)
    {
        if (replacedBefore && maxFee <= stuck.MaxFeePerGas && tip <= stuck.MaxPriorityFeePerGas)
        {
            // Replaced once already, and still above what the chain asks: fees are not what holds it (a stalled sequencer,
            // a node not answering), so bumping again would only climb towards the cap every interval.
            return;
        }
        var (bumpedTip, bumpedMaxFee) = FeeBump.Next(stuck.MaxPriorityFeePerGas, stuck.MaxFeePerGas, tip, maxFee);
        if (bumpedMaxFee > options.MaxFeePerGas)
        {
            return; // over the operator's cap: it waits for the chain's fees to fall
        }
        var replacement = stuck with { MaxPriorityFeePerGas = bumpedTip, MaxFeePerGas = bumpedMaxFee };
        var (raw, hash) = wallet.Sign(replacement);
        nonces.Replacing(stuckHash, hash, time.GetUtcNow());
        try
        {
            await rpc.SendRawTransactionAsync(raw, CancellationToken.None);
        }
        catch (RpcException e) when (NodeHasIt(e))
        {
            // held already
        }
        catch (Exception e) when (e is RpcException or RpcUnavailableException)
        {
            // Mined meanwhile, refused, or no answer: the one in flight stays, and the next check looks again. (Without an
            // answer the node may have taken it; a wait that stops looking for it still has the authorization's own record.)
            nonces.NotReplaced(stuckHash, hash);
            return;
        }
        nonces.Replace(nonce, stuckHash, raw, hash, replacement, time.GetUtcNow());
    }

    /// <summary>Whether the node has our transaction (pending or mined), asked before a nonce is filled over it.</summary>
    private static async Task<bool> KnownAsync(EvmRpcClient rpc, string hash)
    {
        try
        {
            return await rpc.TransactionKnownAsync(hash, CancellationToken.None);
        }
        catch (Exception e) when (e is RpcException or RpcUnavailableException)
        {
            return false;
        }
    }

    /// <summary>True when the node holds a transaction with this nonce (ours, most likely); false when the nonce is free again.</summary>
    private async Task<bool> ResendAsync(EvmRpcClient rpc, EvmNetwork network, GasWalletNonces nonces, BigInteger nonce, byte[] raw,
        string hash, BigInteger tip, BigInteger maxFee)
    {
        try
        {
            await rpc.SendRawTransactionAsync(raw, CancellationToken.None);
            return true;
        }
        catch (RpcException e) when (NodeHasIt(e) || NonceTaken(e))
        {
            // Held: by ours (the receipt shows it) or by another (then the receipt never comes and the payment is
            // reported pending, to be judged from the chain later): either way no gap.
            return true;
        }
        catch (RpcException)
        {
            if (await KnownAsync(rpc, hash))
            {
                return true;
            }
            await FillAsync(rpc, network, nonces, nonce, tip, maxFee);
            return false;
        }
        catch (RpcUnavailableException)
        {
            // Still no answer: a filler has one more go (if the node is really gone it fails too, and returns the
            // nonce for the next send to take first).
            await FillAsync(rpc, network, nonces, nonce, tip, maxFee);
            return false;
        }
    }

    /// <summary>Holds a nonce our refused transaction left free with a no-op to ourselves, so the transactions after it are mined.</summary>
    /// <returns>False when the nonce could not be filled and was returned for the next send.</returns>
    private async Task<bool> FillAsync(EvmRpcClient rpc, EvmNetwork network, GasWalletNonces nonces, BigInteger nonce, BigInteger tip, BigInteger maxFee)
    {
        var filler = new Eip1559Transaction(network.ChainId, nonce, tip, maxFee, FillGas, wallet.Address, 0, []);
        var (raw, hash) = wallet.Sign(filler);
        try
        {
            await rpc.SendRawTransactionAsync(raw, CancellationToken.None);
        }
        catch (RpcException e) when (NodeHasIt(e))
        {
            // held already
        }
        catch (RpcException e) when (NonceTaken(e))
        {
            nonces.Drop(nonce); // held by another transaction: nothing of ours to resend
            return true;
        }
        catch (Exception e) when (e is RpcException or RpcUnavailableException)
        {
            nonces.Return(nonce); // the next send takes it
            return false;
        }
        nonces.Hold(nonce, raw, hash, null, filler, time.GetUtcNow()); // kept like any transaction of ours, in case the node drops the filler too
        return true;
    }

    public void Dispose()
    {
        foreach (var nonces in _nonces.Values)
        {
            nonces.Dispose();
        }
    }
}
