using System.Collections.Concurrent;
using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using X402Serverless.Core.Chain;
using X402Serverless.Core.Facilitation;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Protocol;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.Chain;

/// <summary>
/// Once the built-in facilitator has estimated an EIP-3009 transfer, the next one of the same shape is run once as an
/// eth_call within that estimate's limit instead of being estimated again (a fifth of the node's work), and sent with
/// that limit. A payment the chain would refuse fails that call and goes through the full reads, so its reason is the
/// same as before; a retry of a settled payment still reports the transaction that paid it. The RPC methods the
/// facilitator sends are counted on the way out. Each test has its own gas wallet and facilitator.
/// </summary>
[Collection(ChainGroup.Name)]
public sealed class GasEstimateReuseTests(ChainFixture chain) : IAsyncLifetime, IDisposable
{
    private readonly MethodCounter _counter = new() { InnerHandler = new HttpClientHandler() };
    private HttpClient _http = null!;
    private GasWallet _wallet = null!;
    private JsonObject _requirement = null!;

    public async Task InitializeAsync()
    {
        _http = new HttpClient(_counter);
        _wallet = new GasWallet(await chain.FundedWalletAsync());
        _requirement = await RequirementAsync((await chain.CreateLinkAsync(facilitator: "builtin")).Url);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task After_one_estimate_a_transfer_is_run_once_within_its_limit_and_refusals_keep_their_reasons()
    {
        using var facilitator = NewFacilitator();

        var first = NewPayment(chain.PayerKey);
        var firstOutcome = await facilitator.SettleAsync(first.Request, CancellationToken.None);
        Assert.True(firstOutcome.Success, firstOutcome.ErrorReason);
        Assert.Equal(1, _counter.Count("eth_estimateGas"));

        _counter.Reset();
        var second = NewPayment(chain.PayerKey);
        var secondOutcome = await facilitator.SettleAsync(second.Request, CancellationToken.None);
        Assert.True(secondOutcome.Success, secondOutcome.ErrorReason);
        Assert.Equal(0, _counter.Count("eth_estimateGas"));
        Assert.Equal(1, _counter.Count("eth_call")); // the transfer itself, no separate nonce or balance read
        var sent = await chain.Rpc.CallAsync("eth_getTransactionByHash", secondOutcome.Transaction!);
        var gasLimit = BigInteger.Parse("0" + sent.GetProperty("gas").GetString()![2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var gasUsed = BigInteger.Parse("0" + (await chain.Rpc.CallAsync("eth_getTransactionReceipt", secondOutcome.Transaction!)).GetProperty("gasUsed").GetString()![2..],
            NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        Assert.InRange(gasUsed, BigInteger.One, gasLimit);

        // A payer without funds: the call reverts, and the full reads name the reason as before.
        _counter.Reset();
        var broke = NewPayment(RandomNumberGenerator.GetBytes(32));
        var brokeOutcome = await facilitator.SettleAsync(broke.Request, CancellationToken.None);
        Assert.False(brokeOutcome.Success);
        Assert.Equal(RevertReasons.InsufficientBalance, brokeOutcome.ErrorReason);
        Assert.Equal(0, _counter.Count("eth_sendRawTransaction"));

        // The first payment again: already paid on chain, so its own transaction is reported and nothing is sent.
        _counter.Reset();
        var again = await facilitator.SettleAsync(first.Request, CancellationToken.None);
        Assert.True(again.Success, again.ErrorReason);
        Assert.Equal(firstOutcome.Transaction, again.Transaction, StringComparer.OrdinalIgnoreCase);
        Assert.Equal(0, _counter.Count("eth_sendRawTransaction"));

        foreach (var payment in new[] { first, second })
        {
            Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, payment.PayTo));
            Assert.Equal(payment.Amount, await chain.BalanceAsync(payment.PayTo));
        }
        Assert.Equal(0, await chain.Rpc.TransferLogCountAsync(chain.Token, broke.PayTo));
    }

    private BuiltInFacilitator NewFacilitator()
    {
        var networks = new NetworkRegistry([new NetworkSettings
        {
            ChainId = 84532, RpcUrl = chain.RpcUrl, Asset = chain.Token.ToString(), TokenName = "USD Coin", TokenVersion = "2", Decimals = 6,
        }]);
        var options = new BuiltInFacilitatorOptions { ReceiptTimeout = TimeSpan.FromSeconds(60), ReceiptPollInterval = TimeSpan.FromMilliseconds(100) };
        var rpc = new EvmRpcClient(_http, new Uri(chain.RpcUrl));
        return new BuiltInFacilitator(networks, _wallet, _ => rpc, new PaymentVerifier(TimeProvider.System), options, TimeProvider.System);
    }

    /// <summary>A payment of the link's price from <paramref name="payerKey"/> to an address of its own, so its transfers can be counted.</summary>
    private (SettleRequest Request, Core.Evm.EvmAddress PayTo, BigInteger Amount) NewPayment(byte[] payerKey)
    {
        var payTo = ChainFixture.NewAddress();
        var requirement = _requirement.DeepClone().AsObject();
        requirement["payTo"] = payTo.ToString();
        var header = new PaymentBuilder { Requirement = requirement, PayerKey = payerKey }.V2Header();
        var payload = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(header))).RootElement.Clone();
        var amount = BigInteger.Parse(requirement["amount"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        return (new SettleRequest(2, payload, requirement), payTo, amount);
    }

    /// <summary>Counts the JSON-RPC methods the facilitator sends.</summary>
    private sealed class MethodCounter : DelegatingHandler
    {
        private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

        public int Count(string method) => _counts.GetValueOrDefault(method);

        public void Reset() => _counts.Clear();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Content is not null)
            {
                using var body = JsonDocument.Parse(await request.Content.ReadAsStringAsync(cancellationToken));
                if (body.RootElement.TryGetProperty("method", out var method))
                {
                    _counts.AddOrUpdate(method.GetString()!, 1, (_, n) => n + 1);
                }
            }
            return await base.SendAsync(request, cancellationToken);
        }
    }
}
