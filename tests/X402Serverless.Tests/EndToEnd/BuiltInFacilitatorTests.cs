using System.Text.Json;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.EndToEnd;

/// <summary>Settlement by the gateway's own gas wallet: EIP-1559 transactions it signs and sends itself.</summary>
[Collection(ChainGroup.Name)]
public sealed class BuiltInFacilitatorTests(ChainFixture chain)
{
    [Fact]
    public async Task Official_v2_client_pays_a_builtin_link_and_our_gas_wallet_settles_it()
    {
        var link = await chain.CreateLinkAsync(facilitator: "builtin");
        var payerBefore = await chain.BalanceAsync(chain.Payer);

        var output = await PeerProcess.RunNodeAsync(new Dictionary<string, string>
        {
            ["PAYER_KEY"] = chain.PayerKeyHex, ["TOKEN"] = chain.Token.ToString(), ["NETWORK"] = ChainFixture.V2Network,
        }, "pay-v2.mjs", link.Url);
        var result = JsonDocument.Parse(output.Trim().Split('\n').Last()).RootElement;

        Assert.Equal(200, result.GetProperty("status").GetInt32());
        var tx = result.GetProperty("paymentResponse").GetProperty("transaction").GetString()!;
        Assert.Equal(1, await chain.Rpc.ReceiptStatusAsync(tx));
        var sent = await chain.Rpc.CallAsync("eth_getTransactionByHash", tx);
        Assert.Equal("0x70997970c51812dc3a010c7d01b50e0d17dc79c8", sent.GetProperty("from").GetString());
        Assert.Equal("0x2", sent.GetProperty("type").GetString());
        Assert.Equal(payerBefore - 10_000, await chain.BalanceAsync(chain.Payer));
        Assert.Equal(10_000, await chain.BalanceAsync(link.PayTo));
    }

    [Fact]
    public async Task Official_v1_client_pays_a_builtin_link()
    {
        var link = await chain.CreateLinkAsync(facilitator: "builtin", price: "0.03");
        var output = await PeerProcess.RunNodeAsync(new Dictionary<string, string> { ["PAYER_KEY"] = chain.PayerKeyHex }, "pay-v1.mjs", link.Url);
        var result = JsonDocument.Parse(output.Trim().Split('\n').Last()).RootElement;
        Assert.Equal(200, result.GetProperty("status").GetInt32());
        Assert.Equal("base-sepolia", result.GetProperty("paymentResponse").GetProperty("network").GetString());
        Assert.Equal(30_000, await chain.BalanceAsync(link.PayTo));
    }

    [Fact]
    public async Task A_payer_without_funds_is_refused_with_the_content_withheld_and_the_authorization_blocked()
    {
        var link = await chain.CreateLinkAsync(facilitator: "builtin");
        var broke = new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32) };

        using var response = await SendAsync(link.Url, broke.V2Header());

        Assert.Equal("invalid_exact_evm_insufficient_balance", await ErrorOfAsync(response));
        Assert.False(SettlementOf(response).GetProperty("success").GetBoolean());
        var id = response.Headers.Contains("X-Payment-Id") ? response.Headers.GetValues("X-Payment-Id").Single() : null;
        Assert.Null(id); // no content, no receipt id: the payer learns only that it failed
        using var again = await SendAsync(link.Url, broke.V2Header());
        Assert.Equal("invalid_exact_evm_nonce_already_used", await ErrorOfAsync(again));
    }

    [Fact]
    public async Task A_link_that_asks_for_on_chain_checks_refuses_an_unfunded_payer_before_calling_the_upstream()
    {
        var path = $"/ok/{Guid.NewGuid():N}";
        var payTo = ChainFixture.NewAddress();
        var (_, url) = await chain.Gateway.CreateLinkAsync(new
        {
            upstream = chain.Upstream.BaseUrl + path, price = "0.01", payTo = payTo.ToString(), facilitator = "builtin", verifyOnChain = true,
        });
        var requirement = await RequirementAsync(url);

        using var refused = await SendAsync(url, new PaymentBuilder { Requirement = requirement, PayerKey = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32) }.V2Header());
        Assert.Equal("invalid_exact_evm_insufficient_balance", await ErrorOfAsync(refused));
        Assert.Equal(0, chain.Upstream.Hits(path));

        using var served = await SendAsync(url, new PaymentBuilder { Requirement = requirement, PayerKey = chain.PayerKey }.V2Header());
        Assert.Equal(200, (int)served.StatusCode);
        Assert.Equal(1, chain.Upstream.Hits(path));
    }

    [Fact]
    public async Task Gas_above_the_fee_cap_makes_settlement_wait_and_charges_nobody()
    {
        var settings = chain.GatewaySettings(chain.FacilitatorUrl);
        settings["X402:Settlement:GasWalletKey"] = await chain.FundedWalletAsync();
        settings["X402:Settlement:MaxFeePerGasGwei"] = "0";
        await using var gateway = await GatewayHost.StartAsync(settings);
        var link = await chain.CreateLinkAsync(gateway: gateway, facilitator: "builtin");
        var payerBefore = await chain.BalanceAsync(chain.Payer);

        using var response = await SendAsync(link.Url, new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = chain.PayerKey }.V2Header());

        Assert.Equal(503, (int)response.StatusCode);
        Assert.Equal("gas_price_above_cap", await ProblemCodeAsync(response));
        Assert.Equal(payerBefore, await chain.BalanceAsync(chain.Payer));
    }

    [Fact]
    public async Task Two_settlements_from_the_same_gas_wallet_at_once_use_distinct_nonces()
    {
        // Batching off: two settlements at once would otherwise share one transaction (docs/settlement-batching.md).
        var settings = chain.GatewaySettings(chain.FacilitatorUrl);
        settings["X402:Settlement:GasWalletKey"] = await chain.FundedWalletAsync();
        settings["X402:Settlement:MaxBatchTransfers"] = "1";
        await using var gateway = await GatewayHost.StartAsync(settings);
        var first = await chain.CreateLinkAsync(gateway: gateway, facilitator: "builtin");
        var second = await chain.CreateLinkAsync(gateway: gateway, facilitator: "builtin");
        var headers = new[]
        {
            (first.Url, new PaymentBuilder { Requirement = await RequirementAsync(first.Url), PayerKey = chain.PayerKey }.V2Header()),
            (second.Url, new PaymentBuilder { Requirement = await RequirementAsync(second.Url), PayerKey = chain.PayerKey }.V2Header()),
        };

        var responses = await Task.WhenAll(headers.Select(h => SendAsync(h.Item1, h.Item2)));

        Assert.All(responses, r => Assert.Equal(200, (int)r.StatusCode));
        var nonces = new List<string>();
        foreach (var r in responses)
        {
            var tx = SettlementOf(r).GetProperty("transaction").GetString()!;
            Assert.Equal(1, await chain.Rpc.ReceiptStatusAsync(tx));
            nonces.Add((await chain.Rpc.CallAsync("eth_getTransactionByHash", tx)).GetProperty("nonce").GetString()!);
            r.Dispose();
        }
        Assert.Equal(2, nonces.Distinct().Count());
        Assert.Equal(10_000, await chain.BalanceAsync(first.PayTo));
        Assert.Equal(10_000, await chain.BalanceAsync(second.PayTo));
    }
}
