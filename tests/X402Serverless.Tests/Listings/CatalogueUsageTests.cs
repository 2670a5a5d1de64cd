using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Ledger;
using X402Serverless.Handler.Listings;
using X402Serverless.Handler.Usage;
using X402Serverless.Tests.Credits;
using static X402Serverless.Tests.Credits.CreditsFixture;

namespace X402Serverless.Tests.Listings;

/// <summary>The catalogue's calls and success rate are the gateway's own usage counters, never what a provider says.</summary>
public sealed class CatalogueUsageTests(CreditsFixture fixture) : IClassFixture<CreditsFixture>
{
    [Fact]
    public async Task Paid_and_failed_calls_show_as_calls_and_success_rate_over_30_days()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Catalogue payer" });
        await fixture.FundAsync(Accounts.Credits(payer.Id), 100_000);
        var link = await fixture.NewLinkAsync(org, "0.01", ["credits"], extra: new { name = "Counted API", listed = true });
        for (var i = 0; i < 2; i++)
        {
            using var paid = await CallAsync(link.Url, payer.Key);
            Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        }
        using (var broken = await org.PatchAsJsonAsync($"/api/links/{link.Id}", new { upstream = fixture.Upstream.BaseUrl + $"/fail/{Guid.NewGuid():N}" }))
        {
            Assert.Equal(HttpStatusCode.OK, broken.StatusCode);
        }
        using (var failed = await CallAsync(link.Url, payer.Key))
        {
            Assert.True((int)failed.StatusCode >= 500);
        }
        await fixture.Gateway.Services.GetRequiredService<UsageRecorder>().FlushAsync(default);
        // Counters change without a link change; here the snapshot is dropped instead of waiting out LinkCacheSeconds.
        fixture.Gateway.Services.GetRequiredService<ListingCatalogue>().Invalidate();

        using var http = fixture.Gateway.Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/apis/{link.Id}");
        request.Headers.Accept.ParseAdd("text/html");
        using var response = await http.SendAsync(request);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<dd class=\"calls\">3</dd>", html, StringComparison.Ordinal);
        Assert.Contains("<dd class=\"success\">66.7%</dd>", html, StringComparison.Ordinal);
        Assert.Contains("none (balances only)", html, StringComparison.Ordinal);
        Assert.DoesNotContain("/fail/", html, StringComparison.Ordinal);
        Assert.DoesNotContain("pay-x402", html, StringComparison.Ordinal); // a credits-only link offers no x402 payment

        // Discovery lists x402 resources only: a credits-only link is in the catalogue but not there.
        var discovery = await http.GetStringAsync("/discovery/resources?limit=100");
        Assert.DoesNotContain(link.Id, discovery, StringComparison.Ordinal);
    }
}
