using System.Numerics;
using System.Text.Json;
using X402Serverless.Core.Chain;
using X402Serverless.Core.Evm;

namespace X402Serverless.Core.Transfers;

/// <summary>
/// Reads what a presented transaction did through the network's RPC: its receipt, the chain id it was signed for,
/// its block's time and the chain head. Null when the node does not know it as mined. A node that cannot answer
/// throws <see cref="RpcUnavailableException"/>: nothing is concluded from it.
/// </summary>
public static class TransferReader
{
    public static async Task<ObservedTransfer?> ReadAsync(EvmRpcClient rpc, string txHash, CancellationToken cancellationToken)
    {
        // Three independent reads at once: the paid call waits for the slowest, not their sum.
        var transactionTask = CallAsync(rpc, "eth_getTransactionByHash", [txHash], cancellationToken);
        var receiptTask = rpc.GetReceiptAsync(txHash, cancellationToken);
        var headTask = rpc.BlockNumberAsync(cancellationToken);
        await Task.WhenAll(transactionTask, receiptTask, headTask);
        var transaction = await transactionTask;
        if (await receiptTask is not { } receipt || transaction.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        var block = await CallAsync(rpc, "eth_getBlockByNumber", [Hex(receipt.BlockNumber), false], cancellationToken);
        try
        {
            long? chainId = transaction.TryGetProperty("chainId", out var c) && c.ValueKind == JsonValueKind.String ? (long)EvmRpcClient.Quantity(c) : null;
            var time = DateTimeOffset.FromUnixTimeSeconds((long)EvmRpcClient.Quantity(block.GetProperty("timestamp")));
            EvmAddress? sender = transaction.TryGetProperty("from", out var f) && f.ValueKind == JsonValueKind.String && EvmAddress.TryParse(f.GetString(), out var from)
                ? from
                : null;
            EvmAddress? to = transaction.TryGetProperty("to", out var t) && t.ValueKind == JsonValueKind.String && EvmAddress.TryParse(t.GetString(), out var recipient)
                ? recipient
                : null;
            var value = transaction.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.String ? EvmRpcClient.Quantity(v) : BigInteger.Zero;
            return new ObservedTransfer(receipt, chainId, time, await headTask, sender, to, value);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or OverflowException or ArgumentOutOfRangeException)
        {
            throw new RpcUnavailableException($"Unreadable transaction or block for {txHash} ({e.Message}).", e);
        }
    }

    private static async Task<JsonElement> CallAsync(EvmRpcClient rpc, string method, System.Text.Json.Nodes.JsonArray parameters, CancellationToken cancellationToken)
    {
        try
        {
            return await rpc.CallAsync(method, parameters, cancellationToken);
        }
        catch (RpcException e)
        {
            throw new RpcUnavailableException($"{method}: {e.Message}", e);
        }
    }

    private static string Hex(BigInteger value) => "0x" + value.ToString("x", System.Globalization.CultureInfo.InvariantCulture).TrimStart('0').PadLeft(1, '0');
}
