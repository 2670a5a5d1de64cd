using System.Text;
using System.Text.Json;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.EndToEnd;

/// <summary>What the upstream receives for a paid call, and what the payer gets back.</summary>
[Collection(ChainGroup.Name)]
public sealed class ForwardingTests(ChainFixture chain)
{
    [Fact]
    public async Task A_paid_post_reaches_the_upstream_with_its_body_and_the_provider_secret_but_without_the_payment()
    {
        var path = $"/ok/{Guid.NewGuid():N}";
        var payTo = ChainFixture.NewAddress();
        var (_, url) = await chain.Gateway.CreateLinkAsync(new
        {
            upstream = chain.Upstream.BaseUrl + path, price = "0.01", payTo = payTo.ToString(),
            upstreamHeaders = new Dictionary<string, string> { ["X-Api-Key"] = "provider-secret" },
        });
        var header = new PaymentBuilder { Requirement = await RequirementAsync(url), PayerKey = chain.PayerKey }.V2Header();

        using var request = new HttpRequestMessage(HttpMethod.Post, url + "/orders?x=1")
        {
            Content = new StringContent("""{"qty":3}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("PAYMENT-SIGNATURE", header);
        request.Headers.TryAddWithoutValidation("X-Api-Key", "payer-tries-to-override");
        request.Headers.TryAddWithoutValidation("Connection", "close");
        using var http = new HttpClient();
        using var response = await http.SendAsync(request);

        Assert.Equal(200, (int)response.StatusCode);
        var seen = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("POST", seen.GetProperty("method").GetString());
        Assert.Equal(path + "/orders", seen.GetProperty("path").GetString());
        Assert.Equal("?x=1", seen.GetProperty("query").GetString());
        Assert.Equal("""{"qty":3}""", seen.GetProperty("body").GetString());
        Assert.Equal("provider-secret", seen.GetProperty("apiKey").GetString());
        Assert.False(seen.GetProperty("sawPayment").GetBoolean());
        Assert.True(SettlementOf(response).GetProperty("success").GetBoolean());
        Assert.Equal(10_000, await chain.BalanceAsync(payTo));
    }

    [Fact]
    public async Task A_v1_payment_is_answered_with_x_payment_response()
    {
        var link = await chain.CreateLinkAsync();
        var payment = new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = chain.PayerKey };

        using var response = await SendAsync(link.Url, payment.V1Header("base-sepolia"), version: 1);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.False(response.Headers.Contains("PAYMENT-RESPONSE"));
        var settlement = SettlementOf(response, "X-PAYMENT-RESPONSE");
        Assert.Equal("base-sepolia", settlement.GetProperty("network").GetString());
        Assert.Equal(1, await chain.Rpc.ReceiptStatusAsync(settlement.GetProperty("transaction").GetString()!));
    }
}
