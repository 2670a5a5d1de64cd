using System.Net.Http.Json;
using System.Text.Json;
using X402Serverless.Core.Ledger;
using X402Serverless.Tests.Credits;
using static X402Serverless.Tests.Credits.CreditsFixture;

namespace X402Serverless.Tests.Forwarding;

/// <summary>A credits-paid call: the payer's key authenticates to the gateway and never reaches the provider.</summary>
public sealed class CreditForwardingTests(CreditsFixture fixture) : IClassFixture<CreditsFixture>
{
    [Fact]
    public async Task The_payer_key_cookies_and_platform_headers_stay_at_the_gateway_and_the_provider_secret_is_injected()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Agent" });
        var link = await fixture.NewLinkAsync(org, "0.01", ["credits"], "headers",
            new { upstreamHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer provider-upstream-token" } });
        await fixture.FundAsync(Accounts.Credits(payer.Id), 10_000);

        using var request = new HttpRequestMessage(HttpMethod.Get, link.Url + "/q");
        ForwardedHeaders.AddTo(request, "Bearer " + payer.Key);
        using var client = new HttpClient();
        using var response = await client.SendAsync(request);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("credits", response.Headers.GetValues("X-Charged-From").Single());
        var seen = await response.Content.ReadFromJsonAsync<Dictionary<string, string>>();
        Assert.NotNull(seen);
        // The only Authorization the upstream sees is the provider's own, from the link's upstreamHeaders.
        Assert.Equal("Bearer provider-upstream-token", seen["authorization"]);
        Assert.DoesNotContain(seen.Values, v => v.Contains(payer.Key, StringComparison.Ordinal));
        foreach (var name in ForwardedHeaders.Withheld.Keys)
        {
            Assert.False(seen.ContainsKey(name), $"the upstream received {name}");
        }
        foreach (var (name, value) in ForwardedHeaders.Passed)
        {
            Assert.Equal(value, seen[name]);
        }
        Assert.Equal(1, fixture.Upstream.Hits(link.Path + "/q"));
    }

    [Fact]
    public async Task Without_upstream_headers_no_authorization_reaches_the_upstream()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Agent" });
        var link = await fixture.NewLinkAsync(org, "0.01", ["credits"], "headers");
        await fixture.FundAsync(Accounts.Credits(payer.Id), 10_000);

        using var response = await CallAsync(link.Url, payer.Key);

        Assert.Equal(200, (int)response.StatusCode);
        var seen = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(seen.TryGetProperty("authorization", out _));
        Assert.Equal(1, fixture.Upstream.Hits(link.Path));
    }

    [Theory]
    [InlineData("/..%5C{0}")]
    [InlineData("/%2e%2e%5C{0}")]
    [InlineData("/a/..%5C..%5C{0}")]
    [InlineData("/%2e%2e/{0}")]
    [InlineData("/.%2e/{0}")]
    public async Task A_path_that_climbs_out_of_the_links_upstream_is_refused_and_charges_nothing(string escape)
    {
        // Without price rules too: a paid call must not reach the provider's other endpoints with its upstream headers.
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Agent" });
        var link = await fixture.NewLinkAsync(org, "0.01", ["credits"]);
        await fixture.FundAsync(Accounts.Credits(payer.Id), 10_000);
        var secret = $"secret-{Guid.NewGuid():N}";

        var target = new Uri(link.Url + string.Format(System.Globalization.CultureInfo.InvariantCulture, escape, secret),
            new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var request = new HttpRequestMessage(HttpMethod.Get, target);
        request.Headers.Authorization = new("Bearer", payer.Key);
        using var client = new HttpClient();
        using var response = await client.SendAsync(request);

        Assert.NotEqual(200, (int)response.StatusCode);
        Assert.Equal(0, fixture.Upstream.Hits("/ok/" + secret));
        Assert.Equal(10_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
    }

    [Fact]
    public async Task An_upstream_cannot_forge_the_gateways_charge_and_settlement_headers()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Agent" });
        var link = await fixture.NewLinkAsync(org, "0.01", ["credits"], "hostile");
        await fixture.FundAsync(Accounts.Credits(payer.Id), 10_000);

        using var response = await CallAsync(link.Url, payer.Key);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("0.01", response.Headers.GetValues("X-Charged").Single());
        Assert.Equal("credits", response.Headers.GetValues("X-Charged-From").Single());
        Assert.False(response.Headers.Contains("X-Payment-Id"));
        Assert.False(response.Headers.Contains("X-Payment-Settlement"));
        Assert.False(response.Headers.Contains("PAYMENT-RESPONSE"));
    }
}
