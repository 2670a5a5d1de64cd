using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Networks;

namespace X402Serverless.Core.Chain;

/// <summary>
/// Reads from the chain whether an EIP-3009 authorization was paid: the ground truth that makes settlement
/// idempotent whoever broadcast it, recovery after a crash exact, and a facilitator's answer checkable. A used
/// nonce is not a payment; only the authorization's own transfer is (<see cref="TransferProof"/>).
/// </summary>
public sealed class AuthorizationLookup(Func<EvmNetwork, EvmRpcClient?> rpcFor)
{
    public bool CanLookUp(EvmNetwork network) => rpcFor(network) is not null;

    /// <summary>Whether the nonce is unused, used by this transfer, or used by something else. Throws <see cref="RpcUnavailableException"/>.</summary>
    public async Task<AuthorizationState> FindAsync(EvmNetwork network, AuthorizedTransfer transfer, CancellationToken cancellationToken)
    {
        var rpc = Rpc(network);
        var state = await rpc.EthCallAsync(transfer.From, network.Asset, Eip3009Calls.AuthorizationState(transfer.From, transfer.Nonce), cancellationToken);
        if (state.Length == 0 || state[^1] == 0)
        {
            return AuthorizationState.Unused;
        }
        var used = await rpc.FindLogTransactionAsync(network.Asset,
            [TransferProof.AuthorizationUsedTopic, Hex.Encode(AbiWord.Address(transfer.From)), Hex.Encode(AbiWord.Bytes32(transfer.Nonce))], cancellationToken);
        if (used is null)
        {
            // Used with no AuthorizationUsed log: cancelled (AuthorizationCanceled), so never transferred.
            return new AuthorizationState(AuthorizationUse.ConsumedElsewhere, null);
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
    public async Task<AuthorizationState?> ConfirmAsync(EvmNetwork network, string transaction, AuthorizedTransfer transfer, CancellationToken cancellationToken)
    {
        var receipt = await Rpc(network).GetReceiptAsync(transaction, cancellationToken);
        if (receipt is null)
        {
            return null;
        }
        return TransferProof.Shows(receipt, network.Asset, transfer)
            ? new AuthorizationState(AuthorizationUse.Transferred, receipt.TransactionHash)
            : await FindAsync(network, transfer, cancellationToken);
    }

    private static AuthorizationState Judge(TransactionReceipt receipt, EvmNetwork network, AuthorizedTransfer transfer) =>
        new(TransferProof.Shows(receipt, network.Asset, transfer) ? AuthorizationUse.Transferred : AuthorizationUse.ConsumedElsewhere,
            receipt.TransactionHash);

    private EvmRpcClient Rpc(EvmNetwork network) =>
        rpcFor(network) ?? throw new RpcUnavailableException($"No RPC endpoint is configured for {network.Id}.");
}
