using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.Credits;

/// <summary>Top-up by USDC: the official x402 client pays $N on chain, the payer gets $N of credits, once.</summary>
[Collection(ChainGroup.Name)]
public sealed class UsdcTopUpTests(ChainFixture chain)
{
    [Fact]
    public async Task Paying_a_top_up_with_the_official_client_credits_exactly_the_amount_once()
    {
        using var created = await chain.Gateway.Admin.PostAsJsonAsync("/api/payers", new { name = "Agent with a wallet" });
        var json = await created.Content.ReadFromJsonAsync<JsonElement>();
        var payerId = json.GetProperty("payer").GetProperty("id").GetString()!;
        var key = json.GetProperty("key").GetString()!;
        var wallet = EvmAddress.Parse(ChainFixture.TopUpWallet);
        var walletBefore = await chain.BalanceAsync(wallet);
        var url = chain.Gateway.BaseUrl + "/api/me/topup?amount=2.50";

        var output = await PeerProcess.RunNodeAsync(new Dictionary<string, string>
        {
            ["PAYER_KEY"] = chain.PayerKeyHex, ["TOKEN"] = chain.Token.ToString(), ["NETWORK"] = ChainFixture.V2Network,
            ["AUTHORIZATION"] = "Bearer " + key,
        }, "pay-v2.mjs", url, "POST");
        var result = JsonDocument.Parse(output.Trim().Split('\n').Last()).RootElement;

        Assert.Equal(200, result.GetProperty("status").GetInt32());
        var body = JsonDocument.Parse(result.GetProperty("body").GetString()!).RootElement;
        Assert.Equal("2.50", body.GetProperty("balance").GetString());
        Assert.Equal(walletBefore + 2_500_000, await chain.BalanceAsync(wallet));
        var ledger = chain.Gateway.Services.GetRequiredService<ILedger>();
        Assert.Equal(2_500_000, (await ledger.BalanceAsync(Accounts.Credits(payerId), default)).Micros);
        Assert.Equal(1, await chain.Rpc.ReceiptStatusAsync(result.GetProperty("paymentResponse").GetProperty("transaction").GetString()!));
    }

    [Fact]
    public async Task A_replayed_top_up_payment_is_refused_and_credits_nothing_more()
    {
        using var created = await chain.Gateway.Admin.PostAsJsonAsync("/api/payers", new { name = "Replayer" });
        var json = await created.Content.ReadFromJsonAsync<JsonElement>();
        var payerId = json.GetProperty("payer").GetProperty("id").GetString()!;
        using var client = chain.Gateway.Client(json.GetProperty("key").GetString());

        using var unpaid = await client.PostAsync("/api/me/topup?amount=1.00", null);
        Assert.Equal(402, (int)unpaid.StatusCode);
        var header = new PaymentBuilder { Requirement = PaymentBuilder.RequirementFrom(unpaid), PayerKey = chain.PayerKey }.V2Header();
        for (var i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/me/topup?amount=1.00");
            request.Headers.TryAddWithoutValidation("PAYMENT-SIGNATURE", header);
            using var response = await client.SendAsync(request);
            Assert.Equal(i == 0 ? 200 : 402, (int)response.StatusCode);
        }
        Assert.Equal(1_000_000, (await chain.Gateway.Services.GetRequiredService<ILedger>().BalanceAsync(Accounts.Credits(payerId), default)).Micros);

        using var bad = await client.PostAsync("/api/me/topup?amount=abc", null);
        Assert.Equal(400, (int)bad.StatusCode);
    }

    [Fact]
    public async Task An_organisation_funds_its_allowance_pool_with_usdc()
    {
        using var created = await chain.Gateway.Admin.PostAsJsonAsync("/api/organisations", new { name = $"Pool org {Guid.NewGuid():N}" });
        var org = await created.Content.ReadFromJsonAsync<JsonElement>();
        using var client = chain.Gateway.Client(org.GetProperty("key").GetString());

        using var unpaid = await client.PostAsync("/api/organisation/topup?amount=3.00", null);
        Assert.Equal(402, (int)unpaid.StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/organisation/topup?amount=3.00");
        request.Headers.TryAddWithoutValidation("PAYMENT-SIGNATURE",
            new PaymentBuilder { Requirement = PaymentBuilder.RequirementFrom(unpaid), PayerKey = chain.PayerKey }.V2Header());
        using var paid = await client.SendAsync(request);

        Assert.Equal(200, (int)paid.StatusCode);
        var balances = await client.GetFromJsonAsync<JsonElement>("/api/organisation/balances");
        Assert.Equal("3.00", balances.GetProperty("pool").GetString());
    }
}
