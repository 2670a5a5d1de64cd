using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Links;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Listings;

/// <summary>The catalogue and discovery stay fast with a thousand listed links: built once, not per link per request.</summary>
public sealed class CataloguePerformanceTests
{
    private const int Links = 1000;

    [Fact]
    public async Task With_a_thousand_listed_links_the_catalogue_and_discovery_answer_under_20_ms_at_the_median()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            ["X402:PublicBaseUrl"] = MarketplaceFixture.PublicBase,
        });
        var (admin, _) = await gateway.CreateLinkAsync(new { upstream = "http://127.0.0.1:9/seed", price = "0.01", payTo = MarketplaceFixture.PayTo });
        var organisation = (await gateway.Services.GetRequiredService<ILinkStore>().FindAsync(admin, default))!.OrganisationId;
        await SeedAsync(gateway.Services.GetRequiredService<ILinkStore>(), organisation);
        gateway.Services.GetRequiredService<X402Serverless.Handler.Listings.ListingCatalogue>().Invalidate();

        using var http = gateway.Client();
        foreach (var path in new[] { "/", "/?q=api+7", "/discovery/resources?limit=100&offset=500", "/openapi.json" })
        {
            var median = await MedianMillisecondsAsync(http, path);
            Assert.True(median < 20, $"{path}: median {median:0.00} ms with {Links} listed links");
        }
        var discovery = await http.GetStringAsync("/discovery/resources");
        Assert.Contains($"\"total\":{Links}", discovery, StringComparison.Ordinal);
    }

    internal static async Task SeedAsync(ILinkStore store, string organisation)
    {
        var start = DateTimeOffset.UtcNow;
        for (var i = 0; i < Links; i++)
        {
            await store.CreateAsync(new PaidLink
            {
                Id = $"lnk_perf{i:0000}",
                OrganisationId = organisation,
                Name = $"API {i}",
                Description = "A listed API for the performance check",
                Upstream = "http://127.0.0.1:9/perf",
                Price = Usd.Parse("0.01"),
                PayTo = MarketplaceFixture.PayTo,
                Networks = ["eip155:84532"],
                Methods = ["GET"],
                Listing = new LinkListing { Listed = true, Tags = ["perf", $"t{i % 20}"], Category = $"Category {i % 10}", InputSchema = """{"type":"object"}""" },
                CreatedAt = start.AddMilliseconds(i),
                UpdatedAt = start.AddMilliseconds(i),
            }, default);
        }
    }

    // The first request builds the snapshot; the median of the next ones is what a visitor sees.
    private static async Task<double> MedianMillisecondsAsync(HttpClient http, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/html");
        using (var warm = await http.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }
        var timings = new List<double>();
        for (var i = 0; i < 40; i++)
        {
            using var timed = new HttpRequestMessage(HttpMethod.Get, path);
            timed.Headers.Accept.ParseAdd("text/html");
            var watch = Stopwatch.StartNew();
            using var response = await http.SendAsync(timed);
            await response.Content.ReadAsByteArrayAsync();
            timings.Add(watch.Elapsed.TotalMilliseconds);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        timings.Sort();
        return timings[timings.Count / 2];
    }
}
