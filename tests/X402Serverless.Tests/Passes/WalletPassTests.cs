using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Handler.Usage;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Passes;

/// <summary>
/// A wallet buys a link's pass with the official x402 v2 client (USDC moves on chain) and then calls the link with
/// the official sign-in-with-x client alone: no second payment, each call taken from the pass, a replayed proof refused.
/// </summary>
[Collection(ChainGroup.Name)]
public sealed class WalletPassTests(ChainFixture chain)
{
    [Fact]
    public async Task A_wallet_buys_a_pass_with_x402_then_signs_in_with_x_for_each_call_until_it_is_spent()
    {
        var path = $"/ok/{Guid.NewGuid():N}";
        var payTo = ChainFixture.NewAddress();
        var (linkId, url) = await chain.Gateway.CreateLinkAsync(new
        {
            upstream = chain.Upstream.BaseUrl + path, price = "0.01", payTo = payTo.ToString(), name = "Pass API",
            pass = new { price = "0.05", calls = 2, minutes = 60 },
        });
        var passUrl = chain.Gateway.BaseUrl + "/pass/" + linkId;
        var payerBefore = await chain.BalanceAsync(chain.Payer);

        var bought = await RunAsync("pay-v2-post.mjs", passUrl);
        Assert.Equal(201, bought.GetProperty("status").GetInt32());
        Assert.Equal([402, 201], bought.GetProperty("statuses").EnumerateArray().Select(e => e.GetInt32()));
        var pass = JsonDocument.Parse(bought.GetProperty("body").GetString()!).RootElement;
        Assert.Equal("wallet:" + chain.Payer.ToLowerHex(), pass.GetProperty("holder").GetString());
        Assert.Equal(2, pass.GetProperty("callsLeft").GetInt32());
        Assert.Equal("active", pass.GetProperty("status").GetString());
        Assert.Equal(payerBefore - 50_000, await chain.BalanceAsync(chain.Payer));
        Assert.Equal(50_000, await chain.BalanceAsync(payTo));
        Assert.Equal(0, chain.Upstream.Hits(path));

        // The purchase is a payment like any other: listed with its link, settled.
        var payments = await chain.Gateway.Admin.GetFromJsonAsync<JsonElement>($"/api/payments?linkId={linkId}");
        var payment = Assert.Single(payments.GetProperty("items").EnumerateArray());
        Assert.Equal(pass.GetProperty("paymentRef").GetString(), payment.GetProperty("id").GetString());
        Assert.Equal("settled", payment.GetProperty("status").GetString());
        Assert.Equal("50000", payment.GetProperty("amount").GetString());

        var first = await RunAsync("siwx-call.mjs", url);
        Assert.Equal([402, 200], first.GetProperty("statuses").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("1", first.GetProperty("passCallsLeft").GetString());
        var second = await RunAsync("siwx-call.mjs", url + "/items");
        Assert.Equal(200, second.GetProperty("status").GetInt32());
        Assert.Equal("0", second.GetProperty("passCallsLeft").GetString());
        Assert.Equal(2, chain.Upstream.Hits(path) + chain.Upstream.Hits(path + "/items"));

        // The proof of a call already made buys nothing more.
        using (var replay = new HttpRequestMessage(HttpMethod.Get, url))
        {
            replay.Headers.Add("SIGN-IN-WITH-X", second.GetProperty("proof").GetString());
            using var client = new HttpClient();
            using var refused = await client.SendAsync(replay);
            Assert.Equal(402, (int)refused.StatusCode);
            Assert.Equal("invalid_siwx_nonce", await PaidLinkClientError(refused));
        }
        var spent = await RunAsync("siwx-call.mjs", url);
        Assert.Equal([402, 402], spent.GetProperty("statuses").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("pass_spent", spent.GetProperty("error").GetString());
        Assert.Equal(2, chain.Upstream.Hits(path) + chain.Upstream.Hits(path + "/items"));
        Assert.Equal(payerBefore - 50_000, await chain.BalanceAsync(chain.Payer));

        // The wallet sees its passes by signing in, as the provider does with its key.
        await chain.Gateway.Services.GetRequiredService<UsageRecorder>().FlushAsync(default);
        var usage = await chain.Gateway.Admin.GetFromJsonAsync<JsonElement>("/api/usage?days=7");
        var row = usage.GetProperty("items").EnumerateArray().Single(r => r.GetProperty("linkId").GetString() == linkId);
        Assert.Equal((1, 2, 0), (row.GetProperty("passesSold").GetInt64(), row.GetProperty("passCalls").GetInt64(), row.GetProperty("paid").GetInt64()));
        var listed = await chain.Gateway.Admin.GetFromJsonAsync<JsonElement>($"/api/links/{linkId}/passes");
        Assert.Equal("spent", Assert.Single(listed.GetProperty("items").EnumerateArray()).GetProperty("status").GetString());
    }

    private static async Task<string?> PaidLinkClientError(HttpResponseMessage response) =>
        JsonDocument.Parse(Convert.FromBase64String(response.Headers.GetValues("PAYMENT-REQUIRED").Single())).RootElement.GetProperty("error").GetString();

    private async Task<JsonElement> RunAsync(string script, string url)
    {
        var output = await PeerProcess.RunNodeAsync(
            new Dictionary<string, string> { ["PAYER_KEY"] = chain.PayerKeyHex, ["TOKEN"] = chain.Token.ToString(), ["NETWORK"] = ChainFixture.V2Network },
            script, url);
        return JsonDocument.Parse(output.Trim().Split('\n').Last()).RootElement.Clone();
    }
}
