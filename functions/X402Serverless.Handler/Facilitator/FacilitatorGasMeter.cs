using System.Globalization;
using X402Serverless.Core.Chain;
using X402Serverless.Core.Credits;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Usage;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Facilitator;

/// <summary>
/// Gas the facilitator service spent per key: for each transaction it broadcast, gasUsed × effectiveGasPrice from the
/// receipt, added to durable daily counters (the usage store, under an organisation id no real one can have). A
/// transaction that settled several authorizations at once (a batch) is split evenly between them, rounded down, so
/// each caller is metered for its share and the batch is not counted once per settlement it carried.
/// </summary>
internal sealed partial class FacilitatorGasMeter(IUsageStore usage, RpcClients rpcs, TimeProvider time, ILogger<FacilitatorGasMeter> logger)
{
    /// <summary>The usage store's organisation for these counters; real organisation ids start "org_".</summary>
    public const string Ledger = "x402:facilitator";

    public const string Settlements = "settlements";
    public const string GasUsed = "gas_used";
    public const string GasWei = "gas_wei";

    /// <summary>Records one broadcast transaction once its receipt is there; a missing receipt is logged, not guessed.</summary>
    public async Task RecordAsync(FacilitatorCaller caller, EvmNetwork network, string transaction, CancellationToken cancellationToken)
    {
        try
        {
            var rpc = rpcs.Require(network);
            if (await rpc.GetReceiptAsync(transaction, cancellationToken) is not { } receipt)
            {
                Log.NoReceipt(logger, transaction, caller.KeyId);
                return;
            }
            var gasUsed = receipt.GasUsed / SettlementsIn(receipt, network);
            var wei = gasUsed * (receipt.EffectiveGasPrice ?? throw new FormatException("The receipt has no effectiveGasPrice."));
            var link = PartitionOf(caller);
            var day = Periods.Day(time.GetUtcNow());
            await usage.AddAsync(
            [
                new UsageCount(Ledger, link, day, Settlements, 1),
                new UsageCount(Ledger, link, day, GasUsed, (long)gasUsed),
                new UsageCount(Ledger, link, day, GasWei, (long)wei),
            ], CancellationToken.None);
        }
        catch (Exception e) when (e is RpcException or RpcUnavailableException or HttpRequestException or KeyNotFoundException or FormatException or OverflowException)
        {
            Log.NotRecorded(logger, transaction, caller.KeyId, e.Message);
        }
    }

    /// <summary>Counters from <paramref name="fromDay"/> on, per (organisation, key, day).</summary>
    public async Task<IReadOnlyList<FacilitatorUsageRow>> ListAsync(string fromDay, CancellationToken cancellationToken) =>
        (await usage.ListAsync(Ledger, fromDay, cancellationToken))
            .GroupBy(c => (c.LinkId, c.Day))
            .OrderBy(g => g.Key.Day, StringComparer.Ordinal).ThenBy(g => g.Key.LinkId, StringComparer.Ordinal)
            .Select(g =>
            {
                var (organisation, key) = Split(g.Key.LinkId);
                long Of(string kind) => g.Where(c => c.Kind == kind).Sum(c => c.Count);
                return new FacilitatorUsageRow(organisation, key, g.Key.Day, Of(Settlements), Of(GasUsed),
                    Of(GasWei).ToString(CultureInfo.InvariantCulture));
            })
            .ToList();

    /// <summary>The EIP-3009 authorizations the token says this transaction used; 1 for any other (one Permit2 settle, a lone transfer).</summary>
    private static int SettlementsIn(TransactionReceipt receipt, EvmNetwork network)
    {
        var token = network.Asset.ToLowerHex();
        var used = receipt.Logs.Count(log => log.Topics.Count > 0 && log.Topics[0] == TransferProof.AuthorizationUsedTopic
            && string.Equals(log.Address, token, StringComparison.OrdinalIgnoreCase));
        return Math.Max(1, used);
    }

    // ':' is allowed in Table Storage keys and in neither organisation nor key ids.
    private static string PartitionOf(FacilitatorCaller caller) => $"{caller.OrganisationId}:{caller.KeyId}";

    private static (string Organisation, string Key) Split(string link) =>
        link.IndexOf(':', StringComparison.Ordinal) is var i and >= 0 ? (link[..i], link[(i + 1)..]) : (link, "");

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Facilitator transaction {Transaction} of key {KeyId} has no receipt yet; its gas is not recorded.")]
        public static partial void NoReceipt(ILogger logger, string transaction, string keyId);

        [LoggerMessage(2, LogLevel.Warning, "Gas of facilitator transaction {Transaction} for key {KeyId} not recorded: {Reason}")]
        public static partial void NotRecorded(ILogger logger, string transaction, string keyId, string reason);
    }
}

/// <summary>One key's facilitator use on one UTC day; gasWei is a decimal string (wei exceed JSON's safe integers).</summary>
internal sealed record FacilitatorUsageRow(string OrganisationId, string KeyId, string Day, long Settlements, long GasUsed, string GasWei);
