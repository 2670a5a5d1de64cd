using System.Net;
using System.Text.Json;
using X402Serverless.Core.Ledger;
using static X402Serverless.Tests.Credits.CreditsFixture;

namespace X402Serverless.Tests.Credits;

/// <summary>A link with price rules charges each request what its method and path cost, whichever way it is paid.</summary>
public sealed class PriceRuleChargeTests(CreditsFixture fixture) : IClassFixture<CreditsFixture>
{
    private static readonly object Rules = new
    {
        priceRules = new object[]
        {
            new { method = "POST", price = "0.05" },
            new { pathPrefix = "/v2/premium", price = "0.25" },
        },
    };

    [Fact]
    public async Task The_402_asks_for_the_price_of_the_requested_method_and_path()
    {
        using var org = await fixture.NewOrganisationAsync();
        var link = await fixture.NewLinkAsync(org, "0.01", ["x402", "credits"], extra: Rules);
        Assert.Equal(("10000", "0.01"), await AskedAsync(HttpMethod.Get, link.Url + "/v1/quote"));
        Assert.Equal(("50000", "0.05"), await AskedAsync(HttpMethod.Post, link.Url + "/v1/quote"));
        Assert.Equal(("250000", "0.25"), await AskedAsync(HttpMethod.Get, link.Url + "/v2/premium/report"));
        Assert.Equal(("10000", "0.01"), await AskedAsync(HttpMethod.Get, link.Url + "/v2/premiumx"));
    }

    [Fact]
    public async Task Challenges_rendered_once_are_never_served_for_another_price_method_or_url()
    {
        using var org = await fixture.NewOrganisationAsync();
        var link = await fixture.NewLinkAsync(org, "0.01", ["x402", "credits"], extra: Rules);
        // Alternated and repeated, so each answer after the first comes from the link's rendered challenges.
        for (var round = 0; round < 3; round++)
        {
            Assert.Equal(("10000", "0.01"), await AskedAsync(HttpMethod.Get, link.Url + "/v1/quote"));
            Assert.Equal(("250000", "0.25"), await AskedAsync(HttpMethod.Get, link.Url + "/v2/premium/report"));
            Assert.Equal(("50000", "0.05"), await AskedAsync(HttpMethod.Post, link.Url + "/v1/quote"));
            Assert.Equal(link.Url + "/v1/quote?n=" + round, await ResourceAsync(link.Url + "/v1/quote?n=" + round));
        }
    }

    [Fact]
    public async Task A_credits_payer_is_charged_the_rule_price_and_the_provider_earns_it()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Rule payer" });
        var link = await fixture.NewLinkAsync(org, "0.01", ["credits"], extra: Rules);
        await fixture.FundAsync(Accounts.Credits(payer.Id), 1_000_000);

        using var cheap = await CallAsync(link.Url + "/v1/quote", payer.Key);
        using var premium = await CallAsync(link.Url + "/v2/premium/report", payer.Key);
        Assert.Equal(HttpStatusCode.OK, cheap.StatusCode);
        Assert.Equal(HttpStatusCode.OK, premium.StatusCode);
        Assert.Equal("0.01", cheap.Headers.GetValues("X-Charged").Single());
        Assert.Equal("0.25", premium.Headers.GetValues("X-Charged").Single());
        Assert.Equal(1_000_000 - 10_000 - 250_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
        // The provider earns both charges less the operator's 1% fee set in the fixture.
        Assert.Equal(257_400, (await fixture.Ledger.BalanceAsync(Accounts.Earnings(payer.OrganisationId), default)).Micros);
    }

    [Theory]
    [InlineData("/v1/../v2/premium/report")]
    [InlineData("/v1/%2E%2E/v2/premium/report")]
    [InlineData("/v1/.%2e/v2/premium/report")]
    public async Task Dot_segments_cannot_buy_a_premium_path_at_the_cheap_price(string path)
    {
        using var org = await fixture.NewOrganisationAsync();
        var link = await fixture.NewLinkAsync(org, "0.01", ["x402"], extra: Rules);
        var (status, body) = await RawGetAsync(new Uri(link.Url).PathAndQuery + path);
        // Either the path is normalised first (and priced as the premium path it reaches) or it is refused.
        if (status == 402)
        {
            using var doc = JsonDocument.Parse(body);
            Assert.Equal("250000", doc.RootElement.GetProperty("accepts")[0].GetProperty("maxAmountRequired").GetString());
        }
        else
        {
            Assert.Equal(400, status);
        }
    }

    private static async Task<(string Atomic, string Credits)> AskedAsync(HttpMethod method, string url)
    {
        using var client = new HttpClient();
        using var response = await client.SendAsync(new HttpRequestMessage(method, url));
        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        var required = JsonDocument.Parse(Convert.FromBase64String(response.Headers.GetValues("PAYMENT-REQUIRED").Single())).RootElement;
        var atomic = required.GetProperty("accepts")[0].GetProperty("amount").GetString()!;
        var credits = required.GetProperty("extensions").GetProperty("credits").GetProperty("price").GetString()!;
        return (atomic, credits);
    }

    private static async Task<string> ResourceAsync(string url)
    {
        using var client = new HttpClient();
        using var response = await client.GetAsync(url);
        var required = JsonDocument.Parse(Convert.FromBase64String(response.Headers.GetValues("PAYMENT-REQUIRED").Single())).RootElement;
        var v1 = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var resource = required.GetProperty("resource").GetProperty("url").GetString()!;
        Assert.Equal(resource, v1.GetProperty("accepts")[0].GetProperty("resource").GetString());
        Assert.Equal(response.Content.Headers.ContentLength, (await response.Content.ReadAsByteArrayAsync()).Length);
        return resource;
    }

    // HttpClient normalises dot segments itself unless told not to; the gateway must see them as a client sent them.
    private async Task<(int Status, string Body)> RawGetAsync(string target)
    {
        var uri = new Uri(fixture.Gateway.BaseUrl.TrimEnd('/') + target, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        Assert.Contains(target.Split('/')[^4], uri.PathAndQuery, StringComparison.Ordinal);
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Accept.ParseAdd("application/json");
        using var response = await client.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
