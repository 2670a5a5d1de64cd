using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using X402Serverless.Core.Chain;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Facilitation;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Protocol;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.Chain;

/// <summary>
/// A settlement transaction the node drops from its pool (eviction, a restart without journal, a load-balanced
/// provider) must not hold every later nonce out of blocks until the process restarts: the built-in facilitator sees
/// the chain's pending count fall behind its own and sends the dropped transaction again, and a retried settlement
/// resends its own transaction instead of opening a nonce behind the gap. anvil holds transactions in its pool with
/// automine off and drops one with anvil_dropTransaction. Each test has its own gas wallet, so the nonces are its own.
/// </summary>
[Collection(ChainGroup.Name)]
public sealed class NonceGapTests(ChainFixture chain) : IAsyncLifetime, IDisposable
{
    private readonly HttpClient _http = new();
    private GasWallet _wallet = null!;
    private JsonObject _requirement = null!;

    public async Task InitializeAsync()
    {
        _wallet = new GasWallet(await chain.FundedWalletAsync());
        _requirement = await RequirementAsync((await chain.CreateLinkAsync(facilitator: "builtin")).Url);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task A_transaction_dropped_mid_burst_is_sent_again_and_every_later_settlement_is_mined_once()
    {
        // Long enough that every settlement is mined within its first wait, even on a loaded machine.
        using var facilitator = NewFacilitator(TimeSpan.FromSeconds(60));
        var start = await CountAsync("latest");
        var payments = Enumerable.Range(0, 8).Select(_ => NewPayment()).ToList();

        await chain.Rpc.CallAsync("evm_setAutomine", false);
        Task<SettleOutcome[]> settling;
        string dropped;
        try
        {
            settling = Task.WhenAll(payments.Select(p => facilitator.SettleAsync(p.Request, CancellationToken.None)));
            await Poll.UntilAsync(async () => (await PooledAsync()).Count == 8, TimeSpan.FromSeconds(30));
            dropped = (await PooledAsync())[start + 3];
            await chain.Rpc.CallAsync("anvil_dropTransaction", dropped);
            // Mines the three before the gap; the four after it wait behind it until the dropped one is back.
            await chain.Rpc.CallAsync("evm_mine");
        }
        finally
        {
            await chain.Rpc.CallAsync("evm_setAutomine", true);
        }

        var outcomes = await settling.WaitAsync(TimeSpan.FromSeconds(90));

        Assert.All(outcomes, o => Assert.True(o.Success, o.ErrorReason));
        Assert.Contains(dropped, outcomes.Select(o => o.Transaction)); // the very transaction dropped, sent again
        Assert.Equal(start + 8, await CountAsync("latest")); // no second transaction, no filler: eight nonces for eight
        await AssertPaidOnceAsync(payments, outcomes);
    }

    [Fact]
    public async Task A_retried_settlement_whose_transaction_the_node_dropped_resends_it_rather_than_open_a_new_nonce()
    {
        using var facilitator = NewFacilitator(TimeSpan.FromSeconds(1));
        var start = await CountAsync("latest");
        var payment = NewPayment();

        await chain.Rpc.CallAsync("evm_setAutomine", false);
        SettleOutcome pending;
        try
        {
            pending = await facilitator.SettleAsync(payment.Request, CancellationToken.None);
            Assert.Equal(BuiltInFacilitator.SettlementPending, pending.ErrorReason);
            await chain.Rpc.CallAsync("anvil_dropTransaction", pending.Transaction!);
            Assert.Empty(await PooledAsync());
        }
        finally
        {
            await chain.Rpc.CallAsync("evm_setAutomine", true);
        }

        // The retry (as the settlement worker makes it) sends the same signed bytes: automine mines them at once.
        var retried = await facilitator.SettleAsync(payment.Request, CancellationToken.None);

        Assert.True(retried.Success, retried.ErrorReason);
        Assert.Equal(pending.Transaction, retried.Transaction);
        Assert.Equal(start + 1, await CountAsync("latest"));
        await AssertPaidOnceAsync([payment], [retried]);
    }

    [Fact]
    public async Task A_transaction_the_node_holds_but_never_mines_is_replaced_at_higher_fees_and_the_ones_behind_it_are_mined()
    {
        // A node that answers "taken" for one transaction (and every resend of it) but never mines it, as anvil's
        // automine does with a transaction it leaves queued at the account's own nonce: only a replacement moves on.
        await using var proxy = await RpcProxy.StartAsync(chain.RpcUrl);
        string? stuckRaw = null;
        proxy.Fault = (method, body) =>
        {
            if (method != "eth_sendRawTransaction")
            {
                return RpcFault.Pass;
            }
            var raw = JsonDocument.Parse(body).RootElement.GetProperty("params")[0].GetString()!;
            return Interlocked.CompareExchange(ref stuckRaw, raw, null) is null || raw == stuckRaw ? RpcFault.Swallow : RpcFault.Pass;
        };
        using var facilitator = NewFacilitator(TimeSpan.FromSeconds(60), proxy.Url);
        var start = await CountAsync("latest");
        var payments = Enumerable.Range(0, 4).Select(_ => NewPayment()).ToList();

        var outcomes = await Task.WhenAll(payments.Select(p => facilitator.SettleAsync(p.Request, CancellationToken.None))).WaitAsync(TimeSpan.FromSeconds(90));

        Assert.All(outcomes, o => Assert.True(o.Success, o.ErrorReason));
        Assert.NotNull(stuckRaw);
        var stuckHash = X402Serverless.Core.Crypto.Hex.Encode(X402Serverless.Core.Crypto.Keccak256.Hash(X402Serverless.Core.Crypto.Hex.Decode(stuckRaw)));
        Assert.DoesNotContain(stuckHash, outcomes.Select(o => o.Transaction), StringComparer.OrdinalIgnoreCase); // never reached the chain
        Assert.Equal(start + 4, await CountAsync("latest")); // the replacement took the stuck one's nonce: four nonces for four
        await AssertPaidOnceAsync(payments, outcomes);
    }

    private BuiltInFacilitator NewFacilitator(TimeSpan receiptTimeout, string? rpcUrl = null)
    {
        var networks = new NetworkRegistry([new NetworkSettings
        {
            ChainId = 84532, RpcUrl = chain.RpcUrl, Asset = chain.Token.ToString(), TokenName = "USD Coin", TokenVersion = "2", Decimals = 6,
        }]);
        var options = new BuiltInFacilitatorOptions
        {
            ReceiptTimeout = receiptTimeout,
            ReceiptPollInterval = TimeSpan.FromMilliseconds(100),
            GapCheckInterval = TimeSpan.FromMilliseconds(500),
            // One transaction per settlement, so nonces can be counted per payment (batches: SettlementBatchingTests).
            MaxBatchTransfers = 1,
        };
        var rpc = new EvmRpcClient(_http, new Uri(rpcUrl ?? chain.RpcUrl));
        return new BuiltInFacilitator(networks, _wallet, _ => rpc, new PaymentVerifier(TimeProvider.System), options, TimeProvider.System);
    }

    /// <summary>A payment of the link's price from the funded payer to an address of its own, so its transfers can be counted.</summary>
    private (SettleRequest Request, EvmAddress PayTo, BigInteger Amount) NewPayment()
    {
        var payTo = ChainFixture.NewAddress();
        var requirement = _requirement.DeepClone().AsObject();
        requirement["payTo"] = payTo.ToString();
        var header = new PaymentBuilder { Requirement = requirement, PayerKey = chain.PayerKey }.V2Header();
        var payload = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(header))).RootElement.Clone();
        var amount = BigInteger.Parse(requirement["amount"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        return (new SettleRequest(2, payload, requirement), payTo, amount);
    }

    /// <summary>Each payment settled by its own mined transaction, and its recipient paid exactly once.</summary>
    private async Task AssertPaidOnceAsync(List<(SettleRequest Request, EvmAddress PayTo, BigInteger Amount)> payments, SettleOutcome[] outcomes)
    {
        Assert.Equal(outcomes.Length, outcomes.Select(o => o.Transaction).Distinct().Count());
        for (var i = 0; i < payments.Count; i++)
        {
            Assert.Equal(1, await chain.Rpc.ReceiptStatusAsync(outcomes[i].Transaction!));
            Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, payments[i].PayTo));
            Assert.Equal(payments[i].Amount, await chain.BalanceAsync(payments[i].PayTo));
        }
        Assert.Empty(await PooledAsync());
    }

    private async Task<BigInteger> CountAsync(string block) =>
        Quantity(await chain.Rpc.CallAsync("eth_getTransactionCount", _wallet.Address.ToLowerHex(), block));

    /// <summary>The gas wallet's transactions in anvil's pool, ready or queued, by nonce.</summary>
    private async Task<Dictionary<BigInteger, string>> PooledAsync()
    {
        var pool = await chain.Rpc.CallAsync("txpool_content");
        var ours = new Dictionary<BigInteger, string>();
        foreach (var section in new[] { "pending", "queued" })
        {
            foreach (var sender in pool.GetProperty(section).EnumerateObject()
                .Where(e => e.Name.Equals(_wallet.Address.ToLowerHex(), StringComparison.OrdinalIgnoreCase)))
            {
                foreach (var tx in sender.Value.EnumerateObject())
                {
                    ours[BigInteger.Parse(tx.Name, CultureInfo.InvariantCulture)] = tx.Value.GetProperty("hash").GetString()!;
                }
            }
        }
        return ours;
    }

    private static BigInteger Quantity(JsonElement hex) =>
        BigInteger.Parse("0" + hex.GetString()![2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
