using System.Net.Http.Json;
using System.Text.Json;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.EndToEnd;

/// <summary>The official x402 clients pay a link; USDC moves on chain through the official facilitator.</summary>
[Collection(ChainGroup.Name)]
public sealed class OfficialClientTests(ChainFixture chain)
{
    [Fact]
    public async Task Official_v2_client_pays_a_link_and_the_usdc_moves_on_chain()
    {
        var link = await chain.CreateLinkAsync(price: "0.01");
        var payerBefore = await chain.BalanceAsync(chain.Payer);

        var result = await PayAsync("pay-v2.mjs", link.Url + "/items?limit=2");

        Assert.Equal(200, result.GetProperty("status").GetInt32());
        Assert.Equal([402, 200], result.GetProperty("statuses").EnumerateArray().Select(e => e.GetInt32()));
        var body = JsonDocument.Parse(result.GetProperty("body").GetString()!).RootElement;
        Assert.Equal(link.UpstreamPath + "/items", body.GetProperty("path").GetString());
        Assert.Equal("?limit=2", body.GetProperty("query").GetString());
        Assert.False(body.GetProperty("sawPayment").GetBoolean());
        await AssertSettledAsync(result, link, payerBefore, "eip155:84532", price: 10_000);

        // The paid call is in the figures: x402 revenue, its 402 converted, and the wallet that paid.
        var totals = (await UsageAsync(chain, $"/api/usage/daily?days=1&link={link.Id}", r => r.GetProperty("totals").GetProperty("paid").GetInt64() >= 1)).GetProperty("totals");
        Assert.Equal("0.01", totals.GetProperty("revenueByType").GetProperty("x402").GetString());
        Assert.Equal((1L, 1L, 100m), (totals.GetProperty("challenged").GetInt64(), totals.GetProperty("paidX402").GetInt64(), totals.GetProperty("conversionPercent").GetDecimal()));
        var payer = Assert.Single((await chain.Gateway.Admin.GetFromJsonAsync<JsonElement>($"/api/usage/payers?days=1&link={link.Id}")).GetProperty("items").EnumerateArray());
        Assert.Equal((chain.Payer.ToString().ToLowerInvariant(), "wallet", false, 1L, "0.01"), (payer.GetProperty("payer").GetString(), payer.GetProperty("kind").GetString(),
            payer.GetProperty("selfPayment").GetBoolean(), payer.GetProperty("calls").GetInt64(), payer.GetProperty("paid").GetString()));
    }

    /// <summary>A usage report once the recorder has flushed what <paramref name="ready"/> waits for (it writes every 2 s).</summary>
    internal static async Task<JsonElement> UsageAsync(ChainFixture chain, string path, Func<JsonElement, bool> ready)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var report = await chain.Gateway.Admin.GetFromJsonAsync<JsonElement>(path);
            if (ready(report) || DateTime.UtcNow > deadline)
            {
                return report;
            }
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Official_v1_client_pays_the_same_kind_of_link_with_x_payment()
    {
        var link = await chain.CreateLinkAsync(price: "0.02");
        var payerBefore = await chain.BalanceAsync(chain.Payer);

        var result = await PayAsync("pay-v1.mjs", link.Url);

        Assert.Equal(200, result.GetProperty("status").GetInt32());
        Assert.Equal([402, 200], result.GetProperty("statuses").EnumerateArray().Select(e => e.GetInt32()));
        await AssertSettledAsync(result, link, payerBefore, "base-sepolia", price: 20_000);
    }

    private async Task AssertSettledAsync(JsonElement result, PaidTestLink link, System.Numerics.BigInteger payerBefore, string network, long price)
    {
        Assert.Equal(payerBefore - price, await chain.BalanceAsync(chain.Payer));
        Assert.Equal(price, await chain.BalanceAsync(link.PayTo));
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath) + chain.Upstream.Hits(link.UpstreamPath + "/items"));
        var receipt = result.GetProperty("paymentResponse");
        Assert.True(receipt.GetProperty("success").GetBoolean());
        Assert.Equal(network, receipt.GetProperty("network").GetString());
        Assert.Equal(chain.Payer.ToString(), receipt.GetProperty("payer").GetString(), ignoreCase: true);
        Assert.Equal(1, await chain.Rpc.ReceiptStatusAsync(receipt.GetProperty("transaction").GetString()!));
    }

    private async Task<JsonElement> PayAsync(string script, string url)
    {
        var output = await PeerProcess.RunNodeAsync(
            new Dictionary<string, string>
            {
                ["PAYER_KEY"] = chain.PayerKeyHex,
                ["TOKEN"] = chain.Token.ToString(),
                ["NETWORK"] = ChainFixture.V2Network,
            },
            script, url);
        return JsonDocument.Parse(output.Trim().Split('\n').Last()).RootElement.Clone();
    }
}
