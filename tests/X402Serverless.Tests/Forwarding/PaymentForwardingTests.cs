using System.Net.Http.Json;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.Forwarding;

/// <summary>An x402-paid call: the payment, and any credential the caller sent along, stay at the gateway.</summary>
[Collection(ChainGroup.Name)]
public sealed class PaymentForwardingTests(ChainFixture chain)
{
    [Fact]
    public async Task The_payment_authorization_cookies_and_platform_headers_stay_at_the_gateway()
    {
        var link = await chain.CreateLinkAsync("headers");
        var header = new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = chain.PayerKey }.V2Header();

        using var request = new HttpRequestMessage(HttpMethod.Get, link.Url);
        request.Headers.TryAddWithoutValidation("PAYMENT-SIGNATURE", header);
        request.Headers.TryAddWithoutValidation("X-PAYMENT", "a-v1-copy-the-gateway-ignores");
        ForwardedHeaders.AddTo(request, "Bearer x402sk_a_management_key_sent_by_mistake");
        using var client = new HttpClient();
        using var response = await client.SendAsync(request);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.True(SettlementOf(response).GetProperty("success").GetBoolean());
        var seen = await response.Content.ReadFromJsonAsync<Dictionary<string, string>>();
        Assert.NotNull(seen);
        foreach (var name in ForwardedHeaders.Withheld.Keys.Append("authorization").Append("payment-signature").Append("x-payment"))
        {
            Assert.False(seen.ContainsKey(name), $"the upstream received {name}");
        }
        foreach (var (name, value) in ForwardedHeaders.Passed)
        {
            Assert.Equal(value, seen[name]);
        }
        Assert.Equal("127.0.0.1", seen["x-forwarded-for"]);
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
    }
}
