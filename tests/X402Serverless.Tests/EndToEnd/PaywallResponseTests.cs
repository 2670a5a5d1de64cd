using System.Text;
using System.Text.Json;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.EndToEnd;

/// <summary>The unpaid answer carries both protocol generations, exactly as their clients parse them.</summary>
[Collection(ChainGroup.Name)]
public sealed class PaywallResponseTests(ChainFixture chain)
{
    private static readonly HttpClient Http = new();

    [Fact]
    public async Task Unpaid_request_gets_a_v2_header_and_a_v1_body_describing_the_same_price()
    {
        var link = await chain.CreateLinkAsync(price: "0.01");
        using var response = await Http.GetAsync(link.Url + "/v1/quote?sym=ABC");

        Assert.Equal(402, (int)response.StatusCode);
        Assert.Contains("PAYMENT-REQUIRED", response.Headers.GetValues("Access-Control-Expose-Headers").Single(), StringComparison.Ordinal);
        var v2 = JsonDocument.Parse(Convert.FromBase64String(response.Headers.GetValues("PAYMENT-REQUIRED").Single())).RootElement;
        Assert.Equal(2, v2.GetProperty("x402Version").GetInt32());
        Assert.Equal(link.Url + "/v1/quote?sym=ABC", v2.GetProperty("resource").GetProperty("url").GetString());
        var accept = v2.GetProperty("accepts")[0];
        Assert.Equal(
            ["amount", "asset", "extra", "maxTimeoutSeconds", "network", "payTo", "scheme"],
            accept.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("exact", accept.GetProperty("scheme").GetString());
        Assert.Equal("eip155:84532", accept.GetProperty("network").GetString());
        Assert.Equal("10000", accept.GetProperty("amount").GetString());
        Assert.Equal(chain.Token.ToString(), accept.GetProperty("asset").GetString());
        Assert.Equal(link.PayTo.ToString(), accept.GetProperty("payTo").GetString());
        Assert.True(accept.GetProperty("maxTimeoutSeconds").GetInt32() > 0);
        Assert.Equal("USD Coin", accept.GetProperty("extra").GetProperty("name").GetString());
        Assert.Equal("2", accept.GetProperty("extra").GetProperty("version").GetString());

        var v1 = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(1, v1.GetProperty("x402Version").GetInt32());
        var v1Accept = v1.GetProperty("accepts")[0];
        Assert.Equal("base-sepolia", v1Accept.GetProperty("network").GetString());
        Assert.Equal("10000", v1Accept.GetProperty("maxAmountRequired").GetString());
        Assert.Equal(link.Url + "/v1/quote?sym=ABC", v1Accept.GetProperty("resource").GetString());
        Assert.Equal("Test API", v1Accept.GetProperty("description").GetString());
        Assert.Equal(JsonValueKind.String, v1Accept.GetProperty("mimeType").ValueKind);
        Assert.Equal(0, chain.Upstream.Hits(link.UpstreamPath + "/v1/quote"));
    }

    [Fact]
    public async Task A_browser_gets_a_readable_paywall_page()
    {
        var link = await chain.CreateLinkAsync(price: "0.25");
        using var request = new HttpRequestMessage(HttpMethod.Get, link.Url);
        request.Headers.Accept.ParseAdd("text/html,application/xhtml+xml");
        using var response = await Http.SendAsync(request);

        Assert.Equal(402, (int)response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.Contains("PAYMENT-REQUIRED"));
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("$0.25", html, StringComparison.Ordinal);
        Assert.Contains("Test API", html, StringComparison.Ordinal);
        Assert.Contains(link.PayTo.ToString(), html, StringComparison.Ordinal);
        Assert.Contains("x402", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cors_preflight_is_answered_without_payment_and_exposes_the_payment_headers()
    {
        var link = await chain.CreateLinkAsync();
        using var request = new HttpRequestMessage(HttpMethod.Options, link.Url);
        request.Headers.Add("Origin", "https://app.example");
        request.Headers.Add("Access-Control-Request-Method", "GET");
        request.Headers.Add("Access-Control-Request-Headers", "payment-signature");
        using var response = await Http.SendAsync(request);

        Assert.Equal(204, (int)response.StatusCode);
        Assert.Equal("payment-signature", response.Headers.GetValues("Access-Control-Allow-Headers").Single());
        Assert.Contains("PAYMENT-RESPONSE", response.Headers.GetValues("Access-Control-Expose-Headers").Single(), StringComparison.Ordinal);
        Assert.Equal(0, chain.Upstream.Hits(link.UpstreamPath));
    }

    [Fact]
    public async Task A_method_the_link_does_not_take_gets_405()
    {
        var path = $"/ok/{Guid.NewGuid():N}";
        var (_, url) = await chain.Gateway.CreateLinkAsync(new
        {
            upstream = chain.Upstream.BaseUrl + path, price = "0.01", payTo = ChainFixture.NewAddress().ToString(), methods = new[] { "GET" },
        });
        using var response = await Http.PostAsync(url, new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(405, (int)response.StatusCode);
        Assert.Equal("GET", response.Content.Headers.Allow.Single());
    }
}
