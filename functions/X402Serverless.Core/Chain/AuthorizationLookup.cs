using System.Numerics;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Networks;

namespace X402Serverless.Core.Chain;

/// <summary>
/// Reads from the chain whether an EIP-3009 authorization was paid: the ground truth that makes settlement
/// idempotent whoever broadcast it, recovery after a crash exact, and a facilitator's answer checkable. A used
/// nonce is not a payment; only the authorization's own transfer is (<see cref="TransferProof"/>).
/// </summary>
/// <param name="permit2WindowSeconds">How long before its deadline a Permit2 payment may have been settled by us (see
/// <see cref="Permit2WindowFor"/>): only those blocks are searched for its settle.</param>
public sealed class AuthorizationLookup(Func<EvmNetwork, EvmRpcClient?> rpcFor, long permit2WindowSeconds = AuthorizationLookup.DefaultPermit2WindowSeconds)
{
    public const long DefaultPermit2WindowSeconds = 3_600;

    /// <summary>A permit is presented at most MaxTimeoutSeconds + 60 s before its deadline, and settled after that: an hour, or more for longer timeouts.</summary>
    public static long Permit2WindowFor(int maxTimeoutSeconds) => Math.Max(DefaultPermit2WindowSeconds, maxTimeoutSeconds + 600L);

    public bool CanLookUp(EvmNetwork network) => rpcFor(network) is not null;

    /// <summary>Whether the nonce is unused, used by this transfer, or used by something else. Throws <see cref="RpcUnavailableException"/>.</summary>
    public async Task<AuthorizationState> FindAsync(EvmNetwork network, AuthorizedTransfer transfer, CancellationToken cancellationToken)
    {
        var rpc = Rpc(network);
        if (transfer.Permit2)
        {
            return await FindPermit2Async(rpc, network, transfer, cancellationToken);
        }
        var state = await rpc.EthCallAsync(transfer.From, network.Asset, Eip3009Calls.AuthorizationState(transfer.From, transfer.Nonce), cancellationToken);
        if (state.Length != 32)
        {
            throw new RpcUnavailableException($"authorizationState answered {state.Length} bytes, not a bool word.");
        }
        if (state[^1] == 0)
        {
            return AuthorizationState.Unused;
        }
        string[] topics(string eventTopic) => [eventTopic, Hex.Encode(AbiWord.Address(transfer.From)), Hex.Encode(AbiWord.Bytes32(transfer.Nonce))];
        var used = await FindLogAsync(rpc, network, topics(TransferProof.AuthorizationUsedTopic), cancellationToken);
        if (used is null)
        {
            // A verdict needs positive evidence: a cancellation's own log. No log at all is a node that lags or has
            // pruned history, and concluding "not paid" from it would fail a payment whose money moved.
            var cancelled = await FindLogAsync(rpc, network, topics(TransferProof.AuthorizationCanceledTopic), cancellationToken);
            return cancelled is not null
                ? new AuthorizationState(AuthorizationUse.ConsumedElsewhere, cancelled)
                : throw new RpcUnavailableException($"The nonce reads used on {network.Id} but the node has no log of its use yet.");
        }
        var receipt = await rpc.GetReceiptAsync(used, cancellationToken)
            ?? throw new RpcUnavailableException($"The node lists a log of {used} but has no receipt for it.");
        return Judge(receipt, network, transfer);
    }

    /// <summary>
    /// Checks a transaction said to settle this authorization (our own broadcast, or a facilitator's answer).
    /// Null while it is not mined; otherwise what the chain shows for the authorization, looked up by nonce when the
    /// named transaction does not carry its transfer.
    /// </summary>
    public Task<AuthorizationState?> ConfirmAsync(EvmNetwork network, string transaction, AuthorizedTransfer transfer, CancellationToken cancellationToken) =>
        ConfirmAsync(network, transaction, transfer, null, cancellationToken);

    /// <summary>
    /// The same, the receipt read through <paramref name="receiptOf"/> when given (the built-in facilitator's waits on one
    /// batch transaction share their reads); what the receipt shows is judged for this authorization alone all the same.
    /// </summary>
    public async Task<AuthorizationState?> ConfirmAsync(EvmNetwork network, string transaction, AuthorizedTransfer transfer,
        Func<EvmRpcClient, string, CancellationToken, Task<TransactionReceipt?>>? receiptOf, CancellationToken cancellationToken)
    {
        if (!Hex.TryDecode(transaction, out var hash) || hash.Length != 32)
        {
            // Not a transaction hash at all (a facilitator's garbage): only the nonce's own history can tell.
            return await FindAsync(network, transfer, cancellationToken);
        }
        var rpc = Rpc(network);
        var receipt = receiptOf is null ? await rpc.GetReceiptAsync(transaction, cancellationToken) : await receiptOf(rpc, transaction, cancellationToken);
        if (receipt is null)
        {
            return null;
        }
        if (transfer.Permit2)
        {
            return await ShowsPermit2Async(Rpc(network), network, receipt, transfer, cancellationToken)
                ? new AuthorizationState(AuthorizationUse.Transferred, receipt.TransactionHash)
                : await FindAsync(network, transfer, cancellationToken);
        }
        return TransferProof.Shows(receipt, network.Asset, transfer)
            ? new AuthorizationState(AuthorizationUse.Transferred, receipt.TransactionHash)
            : await FindAsync(network, transfer, cancellationToken);
    }

    /// <summary>
    /// A Permit2 payment: its nonce's bit in Permit2's nonceBitmap says whether it is spent; if it is, what spent it is
    /// looked for only in the blocks where this permit could have been settled (<see cref="Permit2NonceSearch"/>).
    /// </summary>
    private async Task<AuthorizationState> FindPermit2Async(EvmRpcClient rpc, EvmNetwork network, AuthorizedTransfer transfer, CancellationToken cancellationToken)
    {
        var nonce = Permit2Proof.NonceOf(transfer);
        return await Permit2NonceUsedAsync(rpc, transfer.From, nonce, cancellationToken)
            ? await Permit2NonceSearch.FindAsync(rpc, network, transfer, nonce, permit2WindowSeconds, cancellationToken)
            : AuthorizationState.Unused;
    }

    /// <summary>
    /// Before a Permit2 payment is taken on: whether Permit2's nonceBitmap has its nonce spent (by anyone), and whether
    /// its payer's address holds code (which Permit2 would ask instead of ecrecover), read together.
    /// Throws <see cref="RpcUnavailableException"/>.
    /// </summary>
    public async Task<(bool NonceUsed, bool PayerHasCode)> Permit2PreCheckAsync(EvmNetwork network, EvmAddress owner, BigInteger nonce,
        CancellationToken cancellationToken)
    {
        var rpc = Rpc(network);
        var used = Permit2NonceUsedAsync(rpc, owner, nonce, cancellationToken);
        var code = rpc.GetCodeAsync(owner, cancellationToken);
        await ((Task)Task.WhenAll(used, code)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return (await used, (await code).Length > 0);
    }

    private static async Task<bool> Permit2NonceUsedAsync(EvmRpcClient rpc, EvmAddress owner, BigInteger nonce, CancellationToken cancellationToken)
    {
        var word = await rpc.EthCallAsync(owner, Permit2Contracts.Permit2, Permit2Contracts.NonceBitmap(owner, nonce), cancellationToken);
        return word.Length == 32
            ? Permit2Contracts.NonceUsed(word, nonce)
            : throw new RpcUnavailableException($"nonceBitmap answered {word.Length} bytes, not a word.");
    }

    internal static async Task<bool> ShowsPermit2Async(EvmRpcClient rpc, EvmNetwork network, TransactionReceipt receipt, AuthorizedTransfer transfer,
        CancellationToken cancellationToken)
    {
        if (!receipt.Succeeded)
        {
            return false;
        }
        var call = await rpc.GetTransactionCallAsync(receipt.TransactionHash, cancellationToken)
            ?? throw new RpcUnavailableException($"The node has a receipt for {receipt.TransactionHash} but not the transaction.");
        return Permit2Proof.Shows(receipt, call.To, call.Input, network.Asset, transfer);
    }

    /// <summary>
    /// Searches back from the latest block, one provider-sized range at a time (a nonce is used once, and usually just
    /// now), down to the network's lookback; null when no such log is in that window.
    /// </summary>
    private static async Task<string?> FindLogAsync(EvmRpcClient rpc, EvmNetwork network, string[] topics, CancellationToken cancellationToken)
    {
        var latest = await rpc.BlockNumberAsync(cancellationToken);
        var floor = BigInteger.Max(BigInteger.Zero, latest - network.LogLookbackBlocks);
        for (var to = latest; to >= floor; to -= network.LogRangeBlocks)
        {
            var from = BigInteger.Max(floor, to - network.LogRangeBlocks + 1);
            if (await rpc.FindLogTransactionAsync(network.Asset, topics, from, to, cancellationToken) is { } found)
            {
                return found;
            }
        }
        return null;
    }

    private static AuthorizationState Judge(TransactionReceipt receipt, EvmNetwork network, AuthorizedTransfer transfer) =>
        new(TransferProof.Shows(receipt, network.Asset, transfer) ? AuthorizationUse.Transferred : AuthorizationUse.ConsumedElsewhere,
            receipt.TransactionHash);

    private EvmRpcClient Rpc(EvmNetwork network) =>
        rpcFor(network) ?? throw new RpcUnavailableException($"No RPC endpoint is configured for {network.Id}.");
}
