using System.Net;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Links;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Listings;

/// <summary>
/// A thousand listed links are all served, from one snapshot. How fast is the benchmark's business
/// (bench/X402Serverless.Bench, the catalogue and discovery rows), not a timed test's.
/// </summary>
public sealed class CatalogueScaleTests
{
    private const int Links = 1000;

    [Fact]
    public async Task With_a_thousand_listed_links_the_catalogue_discovery_and_openapi_serve_every_one()
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
        var discovery = await GetAsync(http, "/discovery/resources?limit=100&offset=900");
        Assert.Contains($"\"total\":{Links}", discovery, StringComparison.Ordinal);
        Assert.Contains("lnk_perf0999", discovery, StringComparison.Ordinal);
        var openApi = await GetAsync(http, "/openapi.json");
        Assert.Contains("/l/lnk_perf0000", openApi, StringComparison.Ordinal);
        Assert.Contains("/l/lnk_perf0999", openApi, StringComparison.Ordinal);
        Assert.Contains("API 777", await GetAsync(http, "/?q=api+777"), StringComparison.Ordinal);
        var reference = await GetAsync(http, "/reference");
        Assert.Contains("id=\"ref-lnk_perf0000\"", reference, StringComparison.Ordinal);
        Assert.Contains("id=\"ref-lnk_perf0999-get\"", reference, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requests_arriving_while_a_document_renders_wait_for_that_render_instead_of_each_making_their_own()
    {
        var snapshot = new X402Serverless.Handler.Listings.CatalogueSnapshot([], 0, long.MaxValue);
        var renders = 0;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        X402Serverless.Handler.Listings.RenderedDocument Render()
        {
            Interlocked.Increment(ref renders);
            gate.Task.Wait();
            return X402Serverless.Handler.Listings.RenderedDocument.Json("{}");
        }
        // Own threads (LongRunning), as the callers block: the shared pool would grow only slowly to hold them all.
        var first = Task.Factory.StartNew(() => snapshot.Rendered("openapi", Render), TaskCreationOptions.LongRunning);
        await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref renders) == 1), TimeSpan.FromSeconds(10));
        // The first render is under way (and cached only once it ends): these find it in progress, not done.
        var started = 0;
        var others = Enumerable.Range(0, 8).Select(_ => Task.Factory.StartNew(() =>
        {
            Interlocked.Increment(ref started);
            return snapshot.Rendered("openapi", Render);
        }, TaskCreationOptions.LongRunning)).ToList();
        await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref started) == others.Count), TimeSpan.FromSeconds(10));
        gate.SetResult();
        var documents = await Task.WhenAll(others.Append(first));
        Assert.Equal(1, renders);
        Assert.All(documents, d => Assert.Same(documents[0], d));
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

    private static async Task<string> GetAsync(HttpClient http, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/html");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }
}
