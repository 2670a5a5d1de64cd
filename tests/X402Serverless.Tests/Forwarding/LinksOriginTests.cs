using System.Net.Http.Json;
using System.Text.Json;
using X402Serverless.Handler.Forwarding;

namespace X402Serverless.Tests.Forwarding;

/// <summary>The headers that isolate upstream content, on the gateway's origin and on a separate LinksOrigin.</summary>
public sealed class LinksOriginTests(IsolationFixture fixture) : IClassFixture<IsolationFixture>
{
    [Fact]
    public async Task On_the_gateways_origin_a_forwarded_response_is_sandboxed_beside_the_upstreams_own_policy()
    {
        var link = await fixture.NewLinkAsync("hostile");

        using var response = await PaidCallAsync(link.Url, host: null);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal([Support.HostilePage.OwnPolicy, ResponseIsolation.SandboxPolicy], response.Headers.GetValues("Content-Security-Policy"));
        Assert.DoesNotContain("allow-same-origin", ResponseIsolation.SandboxPolicy, StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public async Task On_the_links_origin_a_forwarded_response_is_not_sandboxed_and_nothing_else_is_served()
    {
        var link = await fixture.NewLinkAsync("ok");

        using var paid = await PaidCallAsync(link.Url, IsolationFixture.LinksHost);
        Assert.Equal(200, (int)paid.StatusCode);
        Assert.False(paid.Headers.Contains("Content-Security-Policy"));
        Assert.Equal("nosniff", paid.Headers.GetValues("X-Content-Type-Options").Single());

        foreach (var path in new[] { "/console", "/console/login", "/api/organisation", "/facilitator/supported" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, fixture.Gateway.BaseUrl + path);
            request.Headers.Host = IsolationFixture.LinksHost;
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Support.GatewayHost.AdminKey);
            using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
            using var refused = await client.SendAsync(request);
            Assert.Equal(404, (int)refused.StatusCode);
            Assert.Equal("not_found", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }

        var view = await fixture.Gateway.Admin.GetFromJsonAsync<JsonElement>($"/api/links/{link.Id}");
        Assert.Equal($"http://{IsolationFixture.LinksHost}/l/{link.Id}", view.GetProperty("url").GetString());
    }

    [Fact]
    public async Task The_paywall_takes_a_payer_key_on_the_gateways_origin_only_never_where_providers_pages_run()
    {
        var link = await fixture.NewLinkAsync("ok");

        async Task<string> PaywallAsync(string? host)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, link.Url);
            request.Headers.Accept.ParseAdd("text/html");
            if (host is not null)
            {
                request.Headers.Host = host;
            }
            using var response = await new HttpClient().SendAsync(request);
            Assert.Equal(402, (int)response.StatusCode);
            return await response.Content.ReadAsStringAsync();
        }

        Assert.Contains("name=\"payerKey\"", await PaywallAsync(host: null), StringComparison.Ordinal);
        var onLinksOrigin = await PaywallAsync(IsolationFixture.LinksHost);
        Assert.DoesNotContain("payerKey", onLinksOrigin, StringComparison.Ordinal);
        Assert.Contains("does not take keys", onLinksOrigin, StringComparison.Ordinal);
    }

    private async Task<HttpResponseMessage> PaidCallAsync(string url, string? host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", fixture.PayerKey);
        if (host is not null)
        {
            request.Headers.Host = host;
        }
        using var client = new HttpClient();
        return await client.SendAsync(request);
    }
}
