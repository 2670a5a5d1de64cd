using System.Globalization;
using System.Net.Http.Json;
using System.Numerics;
using System.Text.Json;
using X402Serverless.Core.Evm;

namespace X402Serverless.Tests.Support;

/// <summary>Just enough JSON-RPC to check the chain: token balances and transaction receipts.</summary>
internal sealed class EthRpc(string url) : IDisposable
{
    private readonly HttpClient _http = new();

    public async Task<JsonElement> CallAsync(string method, params object[] args)
    {
        using var response = await _http.PostAsJsonAsync(url, new { jsonrpc = "2.0", id = 1, method, @params = args });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        if (body.TryGetProperty("error", out var error))
        {
            throw new InvalidOperationException($"{method}: {error}");
        }
        return body.GetProperty("result").Clone();
    }

    public async Task<BigInteger> BalanceOfAsync(EvmAddress token, EvmAddress owner)
    {
        var data = "0x70a08231" + Convert.ToHexStringLower(AbiWord.Address(owner));
        var result = await CallAsync("eth_call", new { to = token.ToLowerHex(), data }, "latest");
        return BigInteger.Parse("0" + result.GetString()![2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    /// <summary>The receipt's status (1 = success), or null when no such transaction was mined.</summary>
    public async Task<int?> ReceiptStatusAsync(string txHash)
    {
        var receipt = await CallAsync("eth_getTransactionReceipt", txHash);
        return receipt.ValueKind == JsonValueKind.Null
            ? null
            : int.Parse(receipt.GetProperty("status").GetString()![2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    public async Task<int> TransferLogCountAsync(EvmAddress token, EvmAddress to)
    {
        // Transfer(address,address,uint256) to this recipient, over the whole chain.
        const string transferTopic = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
        var logs = await CallAsync("eth_getLogs", new
        {
            fromBlock = "0x0",
            toBlock = "latest",
            address = token.ToLowerHex(),
            topics = new object?[] { transferTopic, null, "0x" + Convert.ToHexStringLower(AbiWord.Address(to)) },
        });
        return logs.GetArrayLength();
    }

    public void Dispose() => _http.Dispose();
}
