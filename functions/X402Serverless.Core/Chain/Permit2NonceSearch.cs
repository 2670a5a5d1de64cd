using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Networks;

namespace X402Serverless.Core.Chain;

/// <summary>
/// What spent a Permit2 payment's nonce, looked for only where it can be. The permit can be settled only in a block
/// stamped no later than its deadline and, by us, no earlier than the window before it (a permit is presented at most
/// MaxTimeoutSeconds + 60 s before its deadline), so only those blocks' logs are read: the token's Transfer from the
/// payer to the recipient of exactly the amount (each such transaction then checked as the proxy's settle of this
/// permit, <see cref="Permit2Proof"/>) and the payer's own invalidation of the nonce at Permit2. Another spender's
/// permit with the same nonce leaves no trace at all, so once the chain is past the deadline (plus a grace for a lagging
/// node) with no settle found, that is the verdict: consumed elsewhere, never to be paid.
/// </summary>
internal static class Permit2NonceSearch
{
    /// <summary>How far past the deadline the chain's head must be before "no settle found" is final.</summary>
    public const long VerdictGraceSeconds = 60;

    public static async Task<AuthorizationState> FindAsync(EvmRpcClient rpc, EvmNetwork network, AuthorizedTransfer transfer, BigInteger nonce,
        long windowSeconds, CancellationToken cancellationToken)
    {
        var (head, headTime) = await BlockAsync(rpc, "latest", cancellationToken);
        var floor = BigInteger.Max(BigInteger.Zero, head - network.LogLookbackBlocks);
        // A deadline beyond any block stamp (nothing verified has one) reads as "not past".
        var deadline = transfer.Deadline is { } d ? (long)BigInteger.Min(d, long.MaxValue / 2) : headTime;
        var upper = headTime <= deadline ? head : await LastAtOrBeforeAsync(rpc, deadline, floor, head, headTime, cancellationToken);
        var earliest = deadline - windowSeconds;
        string[] transfers = [TransferProof.TransferTopic, Hex.Encode(AbiWord.Address(transfer.From)), Hex.Encode(AbiWord.Address(transfer.To))];
        string[] invalidations = [Permit2Contracts.NonceInvalidationTopic, Hex.Encode(AbiWord.Address(transfer.From))];
        for (var to = upper; to >= floor; to -= network.LogRangeBlocks)
        {
            var from = BigInteger.Max(floor, to - network.LogRangeBlocks + 1);
            var paid = LogsAsync(rpc, network.Asset, transfers, from, to, cancellationToken);
            var burned = LogsAsync(rpc, Permit2Contracts.Permit2, invalidations, from, to, cancellationToken);
            await ((Task)Task.WhenAll(paid, burned)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            // Only transfers of exactly the amount are candidates; each is proved or not from its own transaction.
            foreach (var (tx, _) in (await paid).Where(l => Word(l.Data, 0) == transfer.Value).DistinctBy(l => l.Transaction))
            {
                var receipt = await rpc.GetReceiptAsync(tx, cancellationToken);
                if (receipt is not null && await AuthorizationLookup.ShowsPermit2Async(rpc, network, receipt, transfer, cancellationToken))
                {
                    return new AuthorizationState(AuthorizationUse.Transferred, tx);
                }
            }
            if ((await burned).FirstOrDefault(l => Word(l.Data, 0) == nonce >> 8 && !(Word(l.Data, 1) & (BigInteger.One << (int)(nonce & 0xff))).IsZero)
                is { Transaction: { } invalidation })
            {
                return new AuthorizationState(AuthorizationUse.ConsumedElsewhere, invalidation);
            }
            if (from == floor || (await BlockAsync(rpc, Quantity(from), cancellationToken)).Timestamp < earliest)
            {
                break;
            }
        }
        if (transfer.Deadline is not null && headTime > deadline + VerdictGraceSeconds)
        {
            return new AuthorizationState(AuthorizationUse.ConsumedElsewhere, null);
        }
        throw new RpcUnavailableException($"The Permit2 nonce reads used on {network.Id} but no settle or invalidation of it was found (yet).");
    }

    /// <summary>The last block stamped at or before <paramref name="time"/> (the head is later): galloping back from the head, then halving.</summary>
    private static async Task<BigInteger> LastAtOrBeforeAsync(EvmRpcClient rpc, long time, BigInteger floor, BigInteger head, long headTime,
        CancellationToken cancellationToken)
    {
        var after = head; // stamped later than time
        var step = BigInteger.One;
        BigInteger before;
        while (true)
        {
            before = BigInteger.Max(floor, after - step);
            if ((await BlockAsync(rpc, Quantity(before), cancellationToken)).Timestamp <= time)
            {
                break;
            }
            if (before == floor)
            {
                return floor - 1; // every block in the window is later: nothing to search
            }
            after = before;
            step *= 2;
        }
        while (after - before > 1)
        {
            var middle = (before + after) / 2;
            if ((await BlockAsync(rpc, Quantity(middle), cancellationToken)).Timestamp <= time)
            {
                before = middle;
            }
            else
            {
                after = middle;
            }
        }
        return before;
    }

    private static async Task<(BigInteger Number, long Timestamp)> BlockAsync(EvmRpcClient rpc, string block, CancellationToken cancellationToken)
    {
        var answer = await rpc.CallAsync("eth_getBlockByNumber", [block, false], cancellationToken);
        if (answer.ValueKind != JsonValueKind.Object || !answer.TryGetProperty("number", out var number) || !answer.TryGetProperty("timestamp", out var stamp))
        {
            throw new RpcUnavailableException($"eth_getBlockByNumber: no block {block}.");
        }
        return (EvmRpcClient.Quantity(number), (long)EvmRpcClient.Quantity(stamp));
    }

    private static async Task<List<(string Transaction, string Data)>> LogsAsync(EvmRpcClient rpc, EvmAddress contract, string[] topics,
        BigInteger from, BigInteger to, CancellationToken cancellationToken)
    {
        var filter = new JsonObject
        {
            ["fromBlock"] = Quantity(from),
            ["toBlock"] = Quantity(to),
            ["address"] = contract.ToLowerHex(),
            ["topics"] = new JsonArray(topics.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
        };
        JsonElement logs;
        try
        {
            logs = await rpc.CallAsync("eth_getLogs", [filter], cancellationToken);
        }
        catch (RpcException e)
        {
            throw new RpcUnavailableException($"eth_getLogs: {e.Message}", e); // a refused range is no answer, so no conclusion
        }
        return logs.EnumerateArray().Select(l => (l.GetProperty("transactionHash").GetString()!, l.GetProperty("data").GetString() ?? "")).ToList();
    }

    /// <summary>The <paramref name="index"/>th 32-byte word of a log's data; -1 when it has no such word.</summary>
    private static BigInteger Word(string data, int index) =>
        Hex.TryDecode(data, out var bytes) && bytes.Length >= (index + 1) * 32
            ? new BigInteger(bytes.AsSpan(index * 32, 32), isUnsigned: true, isBigEndian: true)
            : BigInteger.MinusOne;

    private static string Quantity(BigInteger value) => "0x" + value.ToString("x", System.Globalization.CultureInfo.InvariantCulture).TrimStart('0').PadLeft(1, '0');
}
