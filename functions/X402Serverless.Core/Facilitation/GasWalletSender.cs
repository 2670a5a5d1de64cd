using System.Numerics;
using X402Serverless.Core.Chain;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Networks;

namespace X402Serverless.Core.Facilitation;

/// <summary>
/// Signs and sends the gas wallet's transactions: gas estimated with headroom, fees under the operator's cap, and
/// the wallet's nonces handed out locally.
/// </summary>
internal sealed class GasWalletSender(GasWallet wallet, BuiltInFacilitatorOptions options) : IDisposable
{
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Dictionary<long, BigInteger> _nextNonce = [];

    /// <summary>The node refused for lack of gas money: the operator must top the wallet up, the payer did nothing wrong.</summary>
    public static bool IsUnderfunded(RpcException e) =>
        e.Message.Contains("insufficient funds", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("gas required exceeds allowance", StringComparison.OrdinalIgnoreCase);

    // One transaction at a time per wallet: nonces are handed out locally and never collide; the lock covers
    // only signing and sending, not the wait for the receipt.
    public async Task<(string? Hash, string? Failure)> SendAsync(EvmRpcClient rpc, EvmNetwork network, byte[] data, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            var gas = await rpc.EstimateGasAsync(wallet.Address, network.Asset, data, cancellationToken) * 5 / 4;
            var tip = await rpc.MaxPriorityFeeAsync(cancellationToken);
            var maxFee = await rpc.BaseFeeAsync(cancellationToken) * 2 + tip;
            if (maxFee > options.MaxFeePerGas)
            {
                return (null, BuiltInFacilitator.GasPriceAboveCap);
            }
            for (var attempt = 0; ; attempt++)
            {
                var chainNonce = await rpc.GetTransactionCountAsync(wallet.Address, cancellationToken);
                var nonce = _nextNonce.TryGetValue(network.ChainId, out var local) && local > chainNonce ? local : chainNonce;
                var (raw, hash) = wallet.Sign(new Eip1559Transaction(network.ChainId, nonce, tip, maxFee, gas, network.Asset, 0, data));
                try
                {
                    await rpc.SendRawTransactionAsync(raw, cancellationToken);
                    _nextNonce[network.ChainId] = nonce + 1;
                    return (hash, null);
                }
                catch (RpcException e) when (IsUnderfunded(e))
                {
                    return (null, BuiltInFacilitator.GasWalletUnderfunded);
                }
                catch (RpcException e) when (attempt < 2 && e.Message.Contains("nonce", StringComparison.OrdinalIgnoreCase))
                {
                    _nextNonce.Remove(network.ChainId); // resynchronise from the chain and try once more
                }
            }
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public void Dispose() => _sendLock.Dispose();
}
