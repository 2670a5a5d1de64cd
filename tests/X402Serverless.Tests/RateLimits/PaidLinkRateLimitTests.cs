using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Usage;
using X402Serverless.Tests.ProviderConsole;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.RateLimits;

/// <summary>
/// Rate limits on the paid path, the gateway on a clock of the test's: 429 rate_limited with Retry-After before any
/// charge, refilled as time passes, per payer and per address, counted in the usage API; and the link field's checks.
/// </summary>
public sealed class PaidLinkRateLimitTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private GatewayHost _gateway = null!;
    private TestUpstream _upstream = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
        }, b => b.Services.AddSingleton<TimeProvider>(_clock));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public void Card_checkouts_are_limited_per_client_address_by_default_and_refill_with_time()
    {
        var gate = _gateway.Services.GetRequiredService<X402Serverless.Handler.RateLimits.RateLimitGate>();
        HttpContext From(string address) => new DefaultHttpContext { Connection = { RemoteIpAddress = System.Net.IPAddress.Parse(address) } };

        // The default: 10 per 600 s from one address; another address has its own.
        Assert.All(Enumerable.Range(0, 10), _ => Assert.Null(gate.AdmitCardCheckout(From("203.0.113.7"))));
        var limited = From("203.0.113.7");
        Assert.NotNull(gate.AdmitCardCheckout(limited));
        Assert.Equal("60", limited.Response.Headers.RetryAfter.ToString());
        Assert.Null(gate.AdmitCardCheckout(From("198.51.100.9")));

        _clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Null(gate.AdmitCardCheckout(From("203.0.113.7")));
        Assert.NotNull(gate.AdmitCardCheckout(From("203.0.113.7")));
    }

    [Fact]
    public async Task A_payer_past_its_limit_gets_429_with_retry_after_is_not_debited_and_is_served_again_after_the_refill()
    {
        var orgKey = await NewOrganisationKeyAsync();
        using var org = _gateway.Client(orgKey);
        var (linkId, url) = await NewLinkAsync(org, new { perPayer = new { requests = 2, perSeconds = 60 } });
        var first = await NewFundedPayerAsync(org);
        var second = await NewFundedPayerAsync(org);

        for (var i = 0; i < 2; i++)
        {
            using var ok = await CallAsync(url, first.Key);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        using (var limited = await CallAsync(url, first.Key))
        {
            await ProblemAssert.IsAsync(limited, 429, "rate_limited");
            Assert.Equal(TimeSpan.FromSeconds(30), limited.Headers.RetryAfter?.Delta);
        }
        // Two calls paid, the refused one not even held.
        Assert.Equal(100_000 - 20_000, (await BalanceAsync(first.Id)).Micros);

        // Another payer has a bucket of its own.
        using (var other = await CallAsync(url, second.Key))
        {
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        }

        _clock.Advance(TimeSpan.FromSeconds(29));
        using (var early = await CallAsync(url, first.Key))
        {
            await ProblemAssert.IsAsync(early, 429, "rate_limited");
            Assert.Equal(TimeSpan.FromSeconds(1), early.Headers.RetryAfter?.Delta);
        }
        _clock.Advance(TimeSpan.FromSeconds(1));
        using (var refilled = await CallAsync(url, first.Key))
        {
            Assert.Equal(HttpStatusCode.OK, refilled.StatusCode);
        }
        Assert.Equal(100_000 - 30_000, (await BalanceAsync(first.Id)).Micros);

        // Counted beside the other usage counters, for this organisation only.
        await _gateway.Services.GetRequiredService<UsageRecorder>().FlushAsync(default);
        var row = (await org.GetFromJsonAsync<JsonElement>("/api/usage?days=1")).GetProperty("items").EnumerateArray()
            .Single(r => r.GetProperty("linkId").GetString() == linkId);
        Assert.Equal((4L, 2L), (row.GetProperty("paid").GetInt64(), row.GetProperty("rateLimited").GetInt64()));
        var csv = await org.GetStringAsync("/api/usage.csv?days=1");
        Assert.StartsWith("day,link_id,link_name,challenged,paid,not_charged,rate_limited,latency_p50_ms,latency_p95_ms\r\n", csv, StringComparison.Ordinal);
        Assert.Matches($@",{linkId},,0,4,0,2,[0-9.]*,[0-9.]*\r\n$", csv);
        using var stranger = await NewOrganisationAsync();
        Assert.Empty((await stranger.GetFromJsonAsync<JsonElement>("/api/usage?days=1")).GetProperty("items").EnumerateArray());

        // The console's link page shows the limits and the same counter.
        using var session = await ConsoleSession.SignedInAsync(_gateway, orgKey);
        var (status, html) = await session.GetAsync($"/console/links/{linkId}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("<dd id=\"link-rate-limits\">2 calls per 60 s per payer</dd>", html, StringComparison.Ordinal);
        Assert.Contains("<dd id=\"total-rate-limited\">2</dd>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unpaid_calls_are_limited_per_address_only_and_a_payer_limit_does_not_touch_them()
    {
        using var org = await NewOrganisationAsync();
        var (_, perIpUrl) = await NewLinkAsync(org, new { perIp = new { requests = 2, perSeconds = 10 } });
        using var anonymous = new HttpClient();
        Assert.Equal(HttpStatusCode.PaymentRequired, (await anonymous.GetAsync(perIpUrl)).StatusCode);
        Assert.Equal(HttpStatusCode.PaymentRequired, (await anonymous.GetAsync(perIpUrl)).StatusCode);
        using (var limited = await anonymous.GetAsync(perIpUrl))
        {
            await ProblemAssert.IsAsync(limited, 429, "rate_limited");
            Assert.Equal(TimeSpan.FromSeconds(5), limited.Headers.RetryAfter?.Delta);
        }
        // The address's bucket covers paid calls from it too.
        var payer = await NewFundedPayerAsync(org);
        await ProblemAssert.IsAsync(await CallAsync(perIpUrl, payer.Key), 429, "rate_limited");
        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(HttpStatusCode.OK, (await CallAsync(perIpUrl, payer.Key)).StatusCode);

        // A 402 has no payer: a per-payer limit never refuses it, nor does it use the payer's tokens.
        var (_, perPayerUrl) = await NewLinkAsync(org, new { perPayer = new { requests = 1, perSeconds = 60 } });
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.PaymentRequired, (await anonymous.GetAsync(perPayerUrl)).StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await CallAsync(perPayerUrl, payer.Key)).StatusCode);
        await ProblemAssert.IsAsync(await CallAsync(perPayerUrl, payer.Key), 429, "rate_limited");
    }

    [Fact]
    public async Task A_client_named_address_is_ignored_unless_behind_front_door()
    {
        using var org = await NewOrganisationAsync();
        var (_, url) = await NewLinkAsync(org, new { perIp = new { requests = 1, perSeconds = 60 } });
        Assert.Equal(HttpStatusCode.PaymentRequired, (await GetAsync(url, ("X-Azure-ClientIP", "203.0.113.1"))).StatusCode);
        // Not behind Front Door: the header could name anyone, so the connection's address is what counts.
        await ProblemAssert.IsAsync(await GetAsync(url, ("X-Azure-ClientIP", "203.0.113.2")), 429, "rate_limited");
    }

    [Fact]
    public async Task Behind_front_door_each_client_address_has_its_bucket_and_an_ipv6_one_counts_by_its_64()
    {
        const string frontDoorId = "0f0e0d0c-rate-limit-test";
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            ["X402:FrontDoorId"] = frontDoorId,
            ["X402:RateLimits:PerIp:Requests"] = "1",
            ["X402:RateLimits:PerIp:PerSeconds"] = "60",
        });
        gateway.Admin.DefaultRequestHeaders.Add("X-Azure-FDID", frontDoorId);
        // No rateLimit on the link: the gateway's default applies.
        var (_, url) = await gateway.CreateLinkAsync(LinkBody(null));
        (string, string) Fd = ("X-Azure-FDID", frontDoorId);
        Assert.Equal(HttpStatusCode.PaymentRequired, (await GetAsync(url, Fd, ("X-Azure-ClientIP", "203.0.113.1"))).StatusCode);
        await ProblemAssert.IsAsync(await GetAsync(url, Fd, ("X-Azure-ClientIP", "203.0.113.1")), 429, "rate_limited");
        Assert.Equal(HttpStatusCode.PaymentRequired, (await GetAsync(url, Fd, ("X-Azure-ClientIP", "203.0.113.2"))).StatusCode);

        Assert.Equal(HttpStatusCode.PaymentRequired, (await GetAsync(url, Fd, ("X-Azure-ClientIP", "2001:db8:1:2::1"))).StatusCode);
        await ProblemAssert.IsAsync(await GetAsync(url, Fd, ("X-Azure-ClientIP", "2001:db8:1:2:ffff::9")), 429, "rate_limited");
        Assert.Equal(HttpStatusCode.PaymentRequired, (await GetAsync(url, Fd, ("X-Azure-ClientIP", "2001:db8:1:3::1"))).StatusCode);
    }

    private static async Task<HttpResponseMessage> GetAsync(string url, params (string Name, string Value)[] headers)
    {
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task A_link_rate_limit_is_checked_shown_changed_and_cleared_through_the_api()
    {
        using var org = await NewOrganisationAsync();
        using (var bad = await org.PostAsJsonAsync("/api/links", LinkBody(new
        {
            perPayer = new { requests = 0, perSeconds = 60 },
            perIp = new { requests = 5, perSeconds = 86_401 },
        })))
        {
            await ProblemAssert.IsAsync(bad, 400, "invalid_rate_limit");
            var fields = (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").EnumerateArray()
                .Select(e => e.GetProperty("field").GetString()).ToList();
            Assert.Equal(["rateLimit.perPayer.requests", "rateLimit.perIp.perSeconds"], fields);
        }
        using (var missing = await org.PostAsJsonAsync("/api/links", LinkBody(new { perIp = new { requests = 5 } })))
        {
            await ProblemAssert.IsAsync(missing, 400, "invalid_rate_limit");
        }
        using (var unknown = await org.PostAsJsonAsync("/api/links", LinkBody(new { perWallet = new { requests = 5, perSeconds = 1 } })))
        {
            Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        }
        using (var huge = await org.PostAsJsonAsync("/api/links", LinkBody(new { perIp = new { requests = 1e30, perSeconds = 1 } })))
        {
            Assert.Equal(HttpStatusCode.BadRequest, huge.StatusCode);
        }

        var (id, _) = await NewLinkAsync(org, new { perIp = new { requests = 100, perSeconds = 60 } });
        var shown = await org.GetFromJsonAsync<JsonElement>($"/api/links/{id}");
        Assert.Equal(100, shown.GetProperty("rateLimit").GetProperty("perIp").GetProperty("requests").GetInt32());
        Assert.False(shown.GetProperty("rateLimit").TryGetProperty("perPayer", out var none) && none.ValueKind != JsonValueKind.Null);

        // A change that leaves rateLimit out keeps it; null removes it.
        (await org.PatchAsJsonAsync($"/api/links/{id}", new { name = "renamed" })).EnsureSuccessStatusCode();
        Assert.Equal(JsonValueKind.Object, (await org.GetFromJsonAsync<JsonElement>($"/api/links/{id}")).GetProperty("rateLimit").ValueKind);
        using (var badChange = await org.PatchAsJsonAsync($"/api/links/{id}", new { rateLimit = new { perPayer = new { requests = 1, perSeconds = 0 } } }))
        {
            await ProblemAssert.IsAsync(badChange, 400, "invalid_rate_limit");
        }
        (await org.PatchAsJsonAsync($"/api/links/{id}", JsonDocument.Parse("""{"rateLimit":null}""").RootElement)).EnsureSuccessStatusCode();
        Assert.Equal(JsonValueKind.Null, (await org.GetFromJsonAsync<JsonElement>($"/api/links/{id}")).GetProperty("rateLimit").ValueKind);
    }

    private Dictionary<string, object?> LinkBody(object? rateLimit) => new()
    {
        ["upstream"] = _upstream.BaseUrl + $"/ok/{Guid.NewGuid():N}",
        ["price"] = "0.01",
        ["payTo"] = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
        ["accepts"] = new[] { "credits", "x402" },
        ["rateLimit"] = rateLimit,
    };

    private async Task<(string Id, string Url)> NewLinkAsync(HttpClient org, object rateLimit) => await _gateway.CreateLinkAsync(LinkBody(rateLimit), org);

    private async Task<HttpClient> NewOrganisationAsync() => _gateway.Client(await NewOrganisationKeyAsync());

    private async Task<string> NewOrganisationKeyAsync()
    {
        using var response = await _gateway.Admin.PostAsJsonAsync("/api/organisations", new { name = $"Org {Guid.NewGuid():N}" });
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
    }

    private async Task<(string Id, string Key)> NewFundedPayerAsync(HttpClient org)
    {
        using var response = await org.PostAsJsonAsync("/api/payers", new { name = "Limited" });
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = json.GetProperty("payer").GetProperty("id").GetString()!;
        var ledger = _gateway.Services.GetRequiredService<ILedger>();
        await ledger.PostAsync(LedgerEntry.Transfer($"test-fund:{Guid.NewGuid():N}", "topup", Accounts.CardClearing, Accounts.Credits(id), Usd.FromMicros(100_000)), [], default);
        return (id, json.GetProperty("key").GetString()!);
    }

    private Task<Usd> BalanceAsync(string payerId) => _gateway.Services.GetRequiredService<ILedger>().BalanceAsync(Accounts.Credits(payerId), default);

    private static async Task<HttpResponseMessage> CallAsync(string url, string payerKey)
    {
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", payerKey);
        return await client.SendAsync(request);
    }
}
