using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Networks;

namespace X402Serverless.Core.Chain;

/// <summary>
/// Reads whether an EIP-3009 authorization is already used on chain and by which transaction: the ground truth
/// that makes settlement idempotent whoever broadcast it, and recovery after a crash exact.
/// </summary>
public sealed class AuthorizationLookup(Func<EvmNetwork, EvmRpcClient?> rpcFor)
{
    // keccak256("AuthorizationUsed(address,bytes32)")
    private const string AuthorizationUsedTopic = "0x98de503528ee59b575ef0c0a2576a82497bfc029a5685b209e9ec333479b10a5";

    public bool CanLookUp(EvmNetwork network) => rpcFor(network) is not null;

    /// <summary>
    /// Null: the authorization is unused (it can still be settled). Otherwise the transaction that used it, or ""
    /// when it was consumed without a transfer log (cancelled). Throws <see cref="RpcUnavailableException"/>.
    /// </summary>
    public async Task<string?> FindAsync(EvmNetwork network, EvmAddress from, byte[] nonce, CancellationToken cancellationToken)
    {
        var rpc = rpcFor(network) ?? throw new RpcUnavailableException($"No RPC endpoint is configured for {network.Id}.");
        var state = await rpc.EthCallAsync(from, network.Asset, Eip3009Calls.AuthorizationState(from, nonce), cancellationToken);
        if (state.Length == 0 || state[^1] == 0)
        {
            return null;
        }
        return await rpc.FindLogTransactionAsync(network.Asset,
            [AuthorizationUsedTopic, Hex.Encode(AbiWord.Address(from)), Hex.Encode(nonce)], cancellationToken) ?? "";
    }
}
