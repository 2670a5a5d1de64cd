using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Health;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Health;
using X402Serverless.Handler.Hosting;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Listings;

/// <summary>
/// A gateway whose own probe timer is off (each test drives a prober on its own clock), and a provider's upstream that
/// a test switches between up (200) and down (503), keeping the headers of every request it gets.
/// </summary>
public sealed class HealthFixture : IAsyncLifetime
{
    private WebApplication? _upstream;

    internal GatewayHost Gateway { get; private set; } = null!;

    internal string UpstreamUrl { get; private set; } = "";

    internal volatile bool Down;

    internal readonly ConcurrentDictionary<string, ConcurrentQueue<Dictionary<string, string>>> Requests = new();

    public async Task InitializeAsync()
    {
        (_upstream, UpstreamUrl) = await LoopbackApp.StartAsync(app =>
        {
            app.Map("/svc/{**rest}", (HttpContext http) =>
            {
                Requests.GetOrAdd(http.Request.Path + http.Request.QueryString, _ => new()).Enqueue(
                    http.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()));
                return Down ? Results.Text("maintenance", statusCode: 503) : Results.Json(new { ok = true });
            });
            // Never answers: only the probe's own timeout ends the request.
            app.Map("/hang/{**rest}", async (HttpContext http) =>
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, http.RequestAborted);
                return Results.Ok();
            });
        });
        Gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            ["X402:PublicBaseUrl"] = MarketplaceFixture.PublicBase,
            ["X402:Health:RunProber"] = "false",
        });
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await _upstream!.StopAsync();
        await _upstream.DisposeAsync();
    }

    /// <summary>A prober of this gateway (its stores, its guarded upstream client, its catalogue) on <paramref name="time"/>.</summary>
    internal LinkHealthProber Prober(TimeProvider time, HealthOptions? options = null) =>
        ActivatorUtilities.CreateInstance<LinkHealthProber>(Gateway.Services, time, Options.Create(options ?? new HealthOptions()));

    internal async Task<LinkHealth?> HealthAsync(string linkId) =>
        (await Gateway.Services.GetRequiredService<ILinkHealthStore>().ListAsync(default)).SingleOrDefault(h => h.LinkId == linkId);

    internal int Hits(string pathPrefix) => Requests.Where(r => r.Key.StartsWith(pathPrefix, StringComparison.Ordinal)).Sum(r => r.Value.Count);
}

/// <summary>Unpaid health probes of listed links: what they send, what they find, and where it shows.</summary>
public sealed class HealthProbeTests(HealthFixture fixture) : IClassFixture<HealthFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_timer_probes_a_listed_link_on_its_clock_and_the_catalogue_marks_it_down_while_it_is_down()
    {
        var service = $"/svc/{Guid.NewGuid():N}";
        var (id, _) = await fixture.Gateway.CreateLinkAsync(new
        {
            upstream = fixture.UpstreamUrl + service, price = "0.01", payTo = MarketplaceFixture.PayTo, name = "Flaky Weather API",
            listed = true, healthProbe = true, healthPath = "/health?deep=0", upstreamHeaders = new Dictionary<string, string> { ["X-Api-Key"] = "provider-secret" },
        });
        var start = DateTimeOffset.UtcNow;
        var time = new TimerWatchingTimeProvider(start);
        var prober = fixture.Prober(time);
        var interval = prober.Interval;
        using var timer = new LinkHealthTimer(prober, time, Options.Create(new HealthOptions()), NullLogger<LinkHealthTimer>.Instance);
        fixture.Down = false;
        await timer.StartAsync(default);
        try
        {
            // First pass at start: up. The probe asked for the health path below the upstream with the link's own
            // header, and nothing of a payer, a payment or the gateway's forwarding. The timer armed for the next
            // pass is the sign that this one is over (results saved, catalogue refreshed).
            await time.WaitForTimerDueAtAsync(start + interval, Wait);
            var up = (await fixture.HealthAsync(id))!;
            Assert.Equal((200, 0, start), (up.Status, up.ConsecutiveFailures, up.CheckedAt));
            var headers = Assert.Single(fixture.Requests[$"{service}/health?deep=0"]);
            Assert.Equal("provider-secret", headers["x-api-key"]);
            Assert.DoesNotContain(headers.Keys, h => h.StartsWith("x-forwarded", StringComparison.Ordinal) || h.Contains("payment", StringComparison.Ordinal)
                || h is "authorization" or "cookie" or "kyc-attestation");
            Assert.DoesNotContain("badge down", (await HtmlAsync($"/apis/{id}")).Body, StringComparison.Ordinal);
            Assert.Contains("<dd class=\"health up\">up, checked", (await HtmlAsync($"/apis/{id}")).Body, StringComparison.Ordinal);

            // Down for the next pass, an interval later on the clock.
            fixture.Down = true;
            time.Advance(interval);
            await time.WaitForTimerDueAtAsync(start + 2 * interval, Wait);
            var down = (await fixture.HealthAsync(id))!;
            Assert.Equal((503, HealthFailures.Status, 1, start + interval, start), (down.Status, down.Failure, down.ConsecutiveFailures, down.CheckedAt, down.LastUpAt));

            var (_, list) = await HtmlAsync("/");
            var item = list[list.IndexOf($"id=\"api-{id}\"", StringComparison.Ordinal)..];
            Assert.StartsWith($"id=\"api-{id}\"><h2><a class=\"name\" href=\"/apis/{id}\">Flaky Weather API</a> <span class=\"badge down\"", item, StringComparison.Ordinal);
            var (_, page) = await HtmlAsync($"/apis/{id}");
            Assert.Contains("<span class=\"badge down\"", page, StringComparison.Ordinal);
            Assert.Contains("<dd class=\"health down\">down (HTTP 503), checked", page, StringComparison.Ordinal);
            Assert.DoesNotContain($"api-{id}", (await HtmlAsync("/?up=1")).Body, StringComparison.Ordinal);
            var health = (await DiscoveryItemAsync(id)).GetProperty("metadata").GetProperty("health");
            Assert.False(health.GetProperty("up").GetBoolean());
            Assert.Equal(1, health.GetProperty("consecutiveFailures").GetInt32());

            // Still down a pass later: the failures add up.
            time.Advance(interval);
            await time.WaitForTimerDueAtAsync(start + 3 * interval, Wait);
            Assert.Equal(2, (await fixture.HealthAsync(id))!.ConsecutiveFailures);
            Assert.Contains("<dd class=\"health down\">down (HTTP 503, 2 probes in a row), checked", (await HtmlAsync($"/apis/{id}")).Body, StringComparison.Ordinal);

            // Back up: the badge goes.
            fixture.Down = false;
            time.Advance(interval);
            await time.WaitForTimerDueAtAsync(start + 4 * interval, Wait);
            Assert.Equal((true, 0), ((await fixture.HealthAsync(id))!.Up, (await fixture.HealthAsync(id))!.ConsecutiveFailures));
            Assert.DoesNotContain("badge down", (await HtmlAsync($"/apis/{id}")).Body, StringComparison.Ordinal);
            Assert.Contains($"api-{id}", (await HtmlAsync("/?up=1")).Body, StringComparison.Ordinal);
            Assert.Equal(4, fixture.Requests[$"{service}/health?deep=0"].Count); // one probe per pass, none in between
        }
        finally
        {
            await timer.StopAsync(default);
        }
    }

    [Fact]
    public async Task A_pass_cut_short_by_a_link_that_never_answers_keeps_what_it_found()
    {
        // The Functions host ends a timer invocation at its timeout: the probes already done must not be lost with it.
        var prober = fixture.Prober(new TimerWatchingTimeProvider(DateTimeOffset.UtcNow), new HealthOptions { TimeoutSeconds = 600, Concurrency = 2 });
        fixture.Down = false;
        var (hanging, _) = await fixture.Gateway.CreateLinkAsync(new
        {
            upstream = fixture.UpstreamUrl + "/hang/" + Guid.NewGuid().ToString("N"), price = "0.01", payTo = MarketplaceFixture.PayTo, name = "Hanging",
            listed = true, healthProbe = true,
        });
        var (answering, _) = await fixture.Gateway.CreateLinkAsync(new
        {
            upstream = fixture.UpstreamUrl + "/svc/" + Guid.NewGuid().ToString("N"), price = "0.01", payTo = MarketplaceFixture.PayTo, name = "Answering",
            listed = true, healthProbe = true,
        });
        using var cut = new CancellationTokenSource();

        var pass = prober.RunAsync(cut.Token);
        await Poll.UntilAsync(async () => await fixture.HealthAsync(answering) is not null, Wait);
        Assert.False(pass.IsCompleted); // still waiting on the link that never answers
        await cut.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pass);
        Assert.True((await fixture.HealthAsync(answering))!.Up);
        Assert.Null(await fixture.HealthAsync(hanging));
        foreach (var id in new[] { hanging, answering })
        {
            using var unlist = await fixture.Gateway.Admin.PatchAsJsonAsync($"/api/links/{id}", new { listed = false });
            Assert.Equal(HttpStatusCode.OK, unlist.StatusCode);
        }
    }

    [Fact]
    public async Task Only_listed_links_with_a_probe_are_probed_a_forbidden_address_is_refused_and_dropped_probes_claim_nothing()
    {
        var time = new TimerWatchingTimeProvider(DateTimeOffset.UtcNow);
        // A short probe timeout, for the upstream that never answers.
        var prober = fixture.Prober(time, new HealthOptions { TimeoutSeconds = 1 });
        fixture.Down = false;
        async Task<(string Id, string Service)> LinkAsync(object listing)
        {
            var service = $"/svc/{Guid.NewGuid():N}";
            var body = JsonSerializer.SerializeToNode(listing)!.AsObject();
            body["upstream"] = fixture.UpstreamUrl + service;
            body["price"] = "0.01";
            body["payTo"] = MarketplaceFixture.PayTo;
            body["name"] = "Probe subject";
            return ((await fixture.Gateway.CreateLinkAsync(body)).Id, service);
        }
        var unlisted = await LinkAsync(new { listed = false, healthProbe = true });
        var noProbe = await LinkAsync(new { listed = true, healthProbe = false });
        var probed = await LinkAsync(new { listed = true, healthProbe = true });
        var rebound = await LinkAsync(new { listed = true, healthProbe = true });
        var (hanging, _) = await fixture.Gateway.CreateLinkAsync(new
        {
            upstream = fixture.UpstreamUrl + "/hang/" + Guid.NewGuid().ToString("N"), price = "0.01", payTo = MarketplaceFixture.PayTo, name = "Hanging",
            listed = true, healthProbe = true,
        });
        // As if its name now resolved elsewhere: the stored upstream points at the cloud metadata address, which the
        // gateway's upstream policy refuses on every connection (creating such a link is refused too).
        var links = fixture.Gateway.Services.GetRequiredService<ILinkStore>();
        var stored = (await links.FindAsync(rebound.Id, default))!;
        Assert.True(await links.UpdateAsync(stored with { Upstream = "http://169.254.169.254/latest/meta-data/" }, default));

        await prober.RunAsync(default);

        Assert.Null(await fixture.HealthAsync(unlisted.Id));
        Assert.Null(await fixture.HealthAsync(noProbe.Id));
        Assert.Equal(0, fixture.Hits(unlisted.Service));
        Assert.Equal(0, fixture.Hits(noProbe.Service));
        Assert.Equal(1, fixture.Hits(probed.Service)); // the upstream itself, when no health path is set
        Assert.True((await fixture.HealthAsync(probed.Id))!.Up);
        var refused = (await fixture.HealthAsync(rebound.Id))!;
        Assert.Equal((false, HealthFailures.AddressRefused, (int?)null), (refused.Up, refused.Failure, refused.Status));
        var timedOut = (await fixture.HealthAsync(hanging))!;
        Assert.Equal((false, HealthFailures.Timeout, (int?)null), (timedOut.Up, timedOut.Failure, timedOut.Status));
        Assert.False((await DiscoveryItemAsync(noProbe.Id)).GetProperty("metadata").TryGetProperty("health", out _));
        Assert.DoesNotContain("class=\"health", (await HtmlAsync($"/apis/{noProbe.Id}")).Body, StringComparison.Ordinal);

        // Turning the probe off (or unlisting) drops the record at the next pass: no stale claim, no more probes.
        using (var off = await fixture.Gateway.Admin.PatchAsJsonAsync($"/api/links/{rebound.Id}", new { healthProbe = false }))
        {
            Assert.Equal(HttpStatusCode.OK, off.StatusCode);
        }
        foreach (var toUnlist in new[] { probed.Id, hanging })
        {
            using var unlist = await fixture.Gateway.Admin.PatchAsJsonAsync($"/api/links/{toUnlist}", new { listed = false });
            Assert.Equal(HttpStatusCode.OK, unlist.StatusCode);
        }
        time.Advance(prober.Interval);
        await prober.RunAsync(default);
        Assert.Null(await fixture.HealthAsync(rebound.Id));
        Assert.Null(await fixture.HealthAsync(probed.Id));
        Assert.Equal(1, fixture.Hits(probed.Service));
        Assert.DoesNotContain("badge down", (await HtmlAsync($"/apis/{rebound.Id}")).Body, StringComparison.Ordinal);

        // The management API shows the probe settings back.
        var view = await fixture.Gateway.Admin.GetFromJsonAsync<JsonElement>($"/api/links/{rebound.Id}");
        Assert.False(view.GetProperty("healthProbe").GetBoolean());
    }

    private async Task<(HttpResponseMessage Response, string Body)> HtmlAsync(string path)
    {
        using var http = fixture.Gateway.Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/html");
        var response = await http.SendAsync(request);
        return (response, await response.Content.ReadAsStringAsync());
    }

    private async Task<JsonElement> DiscoveryItemAsync(string id)
    {
        using var http = fixture.Gateway.Client();
        var page = await http.GetFromJsonAsync<JsonElement>("/discovery/resources?limit=100");
        return page.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("resource").GetString()!.EndsWith($"/l/{id}", StringComparison.Ordinal));
    }
}
