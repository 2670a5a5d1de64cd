using System.Globalization;
using System.Net.Http.Json;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;

namespace X402Serverless.Core.Chain;

/// <summary>The JSON-RPC calls settlement needs, over one pooled HttpClient per node.</summary>
/// <remarks>
/// Hand-written rather than Nethereum's RpcClient (6.1.0): that client takes no CancellationToken and times out on one
/// process-wide static ConnectionTimeout, so a caller's cancellation could not abort a call nor be told apart from a
/// node that timed out, which is the line between <see cref="RpcUnavailableException"/> and a cancelled request.
/// </remarks>
public sealed class EvmRpcClient(HttpClient http, Uri endpoint)
{
    private long _id;

    public Uri Endpoint => endpoint;

    public async Task<JsonElement> CallAsync(string method, JsonArray parameters, CancellationToken cancellationToken)
    {
        var request = new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = Interlocked.Increment(ref _id),
            ["method"] = method,
            ["params"] = parameters,
        };
        JsonElement body;
        try
        {
            using var response = await http.PostAsJsonAsync(endpoint, request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new RpcUnavailableException($"{method}: node answered HTTP {(int)response.StatusCode}.");
            }
            body = (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).Clone();
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or (TaskCanceledException and not OperationCanceledException { CancellationToken.IsCancellationRequested: true }))
        {
            throw new RpcUnavailableException($"{method}: node unreachable ({e.Message}).", e);
        }
        if (body.TryGetProperty("error", out var error))
        {
            var code = error.TryGetProperty("code", out var c) && c.TryGetInt32(out var ci) ? ci : 0;
            var message = error.TryGetProperty("message", out var m) ? m.GetString() ?? "" : "";
            var data = error.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            throw new RpcException(code, message, data);
        }
        return body.GetProperty("result").Clone();
    }

    public Task<BigInteger> GetTransactionCountAsync(EvmAddress address, CancellationToken cancellationToken) =>
        GetTransactionCountAsync(address, "pending", cancellationToken);

    /// <param name="block">"pending" counts what the node's pool holds ready too; "latest" only what is mined.</param>
    public async Task<BigInteger> GetTransactionCountAsync(EvmAddress address, string block, CancellationToken cancellationToken) =>
        Quantity(await CallAsync("eth_getTransactionCount", [address.ToLowerHex(), block], cancellationToken));

    /// <summary>Whether the node has this transaction, in its pool or mined.</summary>
    public async Task<bool> TransactionKnownAsync(string txHash, CancellationToken cancellationToken) =>
        (await CallAsync("eth_getTransactionByHash", [txHash], cancellationToken)).ValueKind == JsonValueKind.Object;

    public async Task<BigInteger> GetBalanceAsync(EvmAddress address, CancellationToken cancellationToken) =>
        Quantity(await CallAsync("eth_getBalance", [address.ToLowerHex(), "latest"], cancellationToken));

    /// <summary>The code deployed at an address (empty for an EOA or nobody).</summary>
    public async Task<byte[]> GetCodeAsync(EvmAddress address, CancellationToken cancellationToken) =>
        Hex.Decode((await CallAsync("eth_getCode", [address.ToLowerHex(), "latest"], cancellationToken)).GetString()!);

    /// <summary>An eth_call bounded to <paramref name="gas"/>, so a contract cannot make the node work without limit.</summary>
    public async Task<byte[]> EthCallAsync(EvmAddress from, EvmAddress to, byte[] data, BigInteger gas, CancellationToken cancellationToken)
    {
        var tx = Tx(from, to, data);
        tx["gas"] = QuantityHex(gas);
        var result = await CallAsync("eth_call", [tx, "latest"], cancellationToken);
        return Hex.Decode(result.GetString()!);
    }

    /// <summary>
    /// A "deployless" eth_call: no recipient, so <paramref name="creationCode"/> runs as a contract's constructor and
    /// what it returns is the answer. Bounded to <paramref name="gas"/>; nothing is deployed.
    /// </summary>
    public async Task<byte[]> EthCallCreateAsync(EvmAddress from, byte[] creationCode, BigInteger gas, CancellationToken cancellationToken)
    {
        var tx = new JsonObject { ["from"] = from.ToLowerHex(), ["data"] = Hex.Encode(creationCode), ["gas"] = QuantityHex(gas) };
        var result = await CallAsync("eth_call", [tx, "latest"], cancellationToken);
        return Hex.Decode(result.GetString()!);
    }

    public async Task<byte[]> EthCallAsync(EvmAddress from, EvmAddress to, byte[] data, CancellationToken cancellationToken)
    {
        var result = await CallAsync("eth_call", [Tx(from, to, data), "latest"], cancellationToken);
        return Hex.Decode(result.GetString()!);
    }

    public async Task<BigInteger> EstimateGasAsync(EvmAddress from, EvmAddress to, byte[] data, CancellationToken cancellationToken) =>
        Quantity(await CallAsync("eth_estimateGas", [Tx(from, to, data)], cancellationToken));

    public async Task<BigInteger> BaseFeeAsync(CancellationToken cancellationToken)
    {
        var block = await CallAsync("eth_getBlockByNumber", ["latest", false], cancellationToken);
        return block.TryGetProperty("baseFeePerGas", out var fee) ? Quantity(fee) : BigInteger.Zero;
    }

    public async Task<BigInteger> MaxPriorityFeeAsync(CancellationToken cancellationToken)
    {
        try
        {
            return Quantity(await CallAsync("eth_maxPriorityFeePerGas", [], cancellationToken));
        }
        catch (RpcException)
        {
            return new BigInteger(1_000_000_000); // nodes without the method: 1 gwei tip
        }
    }

    public async Task<string> SendRawTransactionAsync(byte[] raw, CancellationToken cancellationToken) =>
        (await CallAsync("eth_sendRawTransaction", [Hex.Encode(raw)], cancellationToken)).GetString()!;

    /// <summary>The transaction's receipt, or null while it is not mined (or unknown to this node).</summary>
    public async Task<TransactionReceipt?> GetReceiptAsync(string txHash, CancellationToken cancellationToken)
    {
        JsonElement receipt;
        try
        {
            receipt = await CallAsync("eth_getTransactionReceipt", [txHash], cancellationToken);
        }
        catch (RpcException e)
        {
            throw new RpcUnavailableException($"eth_getTransactionReceipt: {e.Message}", e);
        }
        if (receipt.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        try
        {
            var logs = new List<ReceiptLog>();
            foreach (var log in receipt.GetProperty("logs").EnumerateArray())
            {
                logs.Add(new ReceiptLog(
                    log.GetProperty("address").GetString()!.ToLowerInvariant(),
                    log.GetProperty("topics").EnumerateArray().Select(t => t.GetString()!.ToLowerInvariant()).ToArray(),
                    log.GetProperty("data").GetString()!.ToLowerInvariant(),
                    Quantity(log.GetProperty("logIndex"))));
            }
            return new TransactionReceipt(receipt.GetProperty("transactionHash").GetString()!.ToLowerInvariant(),
                Quantity(receipt.GetProperty("status")) == BigInteger.One,
                Quantity(receipt.GetProperty("blockNumber")),
                Quantity(receipt.GetProperty("gasUsed")),
                receipt.TryGetProperty("effectiveGasPrice", out var price) ? Quantity(price) : null,
                logs);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or NullReferenceException)
        {
            // A node that answers with a receipt we cannot read is as good as no node: nothing is concluded from it.
            throw new RpcUnavailableException($"eth_getTransactionReceipt: unreadable receipt for {txHash} ({e.Message}).", e);
        }
    }

    public async Task<BigInteger> BlockNumberAsync(CancellationToken cancellationToken) =>
        Quantity(await CallAsync("eth_blockNumber", [], cancellationToken));

    /// <summary>The transaction that emitted a log with these topics from this contract between two blocks (inclusive), if any.</summary>
    public async Task<string?> FindLogTransactionAsync(EvmAddress contract, string[] topics, BigInteger fromBlock, BigInteger toBlock, CancellationToken cancellationToken) =>
        await FindLogTransactionsAsync(contract, topics, fromBlock, toBlock, cancellationToken) is [var first, ..] ? first : null;

    /// <summary>A transaction's recipient and call data; null when the node does not know it.</summary>
    public async Task<(EvmAddress? To, byte[] Input)?> GetTransactionCallAsync(string txHash, CancellationToken cancellationToken)
    {
        var tx = await CallAsync("eth_getTransactionByHash", [txHash], cancellationToken);
        if (tx.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        EvmAddress? to = tx.TryGetProperty("to", out var t) && t.ValueKind == JsonValueKind.String && EvmAddress.TryParse(t.GetString(), out var parsed) ? parsed : null;
        var inputText = tx.TryGetProperty("input", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null;
        return Hex.TryDecode(inputText, out var input)
            ? (to, input)
            : throw new RpcUnavailableException($"eth_getTransactionByHash: unreadable input for {txHash}.");
    }

    /// <summary>Every transaction (oldest first, each once) that emitted a log with these topics from this contract between two blocks.</summary>
    public async Task<IReadOnlyList<string>> FindLogTransactionsAsync(EvmAddress contract, string[] topics, BigInteger fromBlock, BigInteger toBlock, CancellationToken cancellationToken)
    {
        var filter = new JsonObject
        {
            ["fromBlock"] = QuantityHex(fromBlock),
            ["toBlock"] = QuantityHex(toBlock),
            ["address"] = contract.ToLowerHex(),
            ["topics"] = new JsonArray(topics.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
        };
        JsonElement logs;
        try
        {
            logs = await CallAsync("eth_getLogs", [filter], cancellationToken);
        }
        catch (RpcException e)
        {
            // Providers refuse wide ranges or large results: no answer, so no conclusion; the caller retries.
            throw new RpcUnavailableException($"eth_getLogs: {e.Message}", e);
        }
        return logs.EnumerateArray().Select(l => l.GetProperty("transactionHash").GetString()!).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }

    private static JsonObject Tx(EvmAddress from, EvmAddress to, byte[] data) => new()
    {
        ["from"] = from.ToLowerHex(),
        ["to"] = to.ToLowerHex(),
        ["data"] = Hex.Encode(data),
    };

    private static string QuantityHex(BigInteger value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture).TrimStart('0').PadLeft(1, '0');

    public static BigInteger Quantity(JsonElement hex)
    {
        var s = hex.GetString()!;
        return BigInteger.Parse("0" + s[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }
}
