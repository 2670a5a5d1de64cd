using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Usage;
using X402Serverless.Handler.Listings;
using X402Serverless.Handler.Usage;
using X402Serverless.Tests.Credits;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.Credits.CreditsFixture;

namespace X402Serverless.Tests.Listings;

/// <summary>Median latency is measured on real paid calls (the usage counters' histogram), never what a provider says.</summary>
public sealed class CatalogueLatencyTests(CreditsFixture fixture) : IClassFixture<CreditsFixture>
{
    [Fact]
    public async Task Paid_calls_to_a_slow_upstream_show_their_median_latency_in_the_usage_api_the_catalogue_and_discovery()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Latency payer" });
        await fixture.FundAsync(Accounts.Credits(payer.Id), 100_000);
        var link = await fixture.NewLinkAsync(org, "0.01", ["credits", "x402"], kind: "delay", extra: new { name = "Slow API", listed = true });
        for (var i = 0; i < 3; i++)
        {
            using var paid = await CallAsync(link.Url, payer.Key);
            Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        }
        using (var challenged = await new HttpClient().GetAsync(link.Url))
        {
            Assert.Equal(HttpStatusCode.PaymentRequired, challenged.StatusCode); // a 402 never reaches the upstream: no latency
        }
        await fixture.Gateway.Services.GetRequiredService<UsageRecorder>().FlushAsync(default);
        fixture.Gateway.Services.GetRequiredService<ListingCatalogue>().Invalidate();

        // The counters: three samples, each in a bucket at or above the upstream's own delay.
        var organisationId = (await fixture.Gateway.Services.GetRequiredService<Core.Ports.ILinkStore>().FindAsync(link.Id, default))!.OrganisationId;
        var counts = (await fixture.Gateway.Services.GetRequiredService<Core.Ports.IUsageStore>().ListAsync(organisationId, "2000-01-01", default))
            .Where(c => c.LinkId == link.Id && LatencyHistogram.BucketOf(c.Kind) >= 0).ToList();
        Assert.Equal(3, counts.Sum(c => c.Count));
        Assert.All(counts, c => Assert.True(LatencyHistogram.UpperMilliseconds(LatencyHistogram.BucketOf(c.Kind)) >= TestUpstream.Delay.TotalMilliseconds));
        var p50 = LatencyHistogram.Summarise(counts).P50!.Value;
        var p50Bucket = LatencyHistogram.Bucket(p50);
        Assert.Contains(counts, c => LatencyHistogram.BucketOf(c.Kind) == p50Bucket);
        Assert.InRange(p50.TotalMilliseconds, LatencyHistogram.LowerMilliseconds(LatencyHistogram.Bucket(TestUpstream.Delay)), 10_000);

        // The management usage API: per day and over the period.
        var usage = await org.GetFromJsonAsync<JsonElement>("/api/usage?days=7");
        var row = usage.GetProperty("items").EnumerateArray().Single(r => r.GetProperty("linkId").GetString() == link.Id);
        Assert.Equal(Math.Round(p50.TotalMilliseconds, 1), row.GetProperty("latencyP50Ms").GetDouble());
        var overall = usage.GetProperty("latency").EnumerateArray().Single(r => r.GetProperty("linkId").GetString() == link.Id);
        Assert.Equal(3, overall.GetProperty("samples").GetInt64());
        Assert.True(overall.GetProperty("p95Ms").GetDouble() >= overall.GetProperty("p50Ms").GetDouble());

        // The API page and discovery.
        using var http = fixture.Gateway.Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/apis/{link.Id}");
        request.Headers.Accept.ParseAdd("text/html");
        using var response = await http.SendAsync(request);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains($"<dd class=\"latency\">{LatencySummary.Format(p50)}</dd>", html, StringComparison.Ordinal);
        var discovery = await http.GetFromJsonAsync<JsonElement>("/discovery/resources?limit=100");
        var metadata = discovery.GetProperty("items").EnumerateArray()
            .Single(i => i.GetProperty("resource").GetString()!.Contains(link.Id, StringComparison.Ordinal)).GetProperty("metadata");
        Assert.Equal(Math.Round(p50.TotalMilliseconds, 1), metadata.GetProperty("latencyP50Ms").GetDouble());
        Assert.Equal(3, metadata.GetProperty("calls30d").GetInt64());
        Assert.False(metadata.TryGetProperty("health", out _)); // no probe: no health claim
    }
}
