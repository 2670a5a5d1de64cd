using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Ledger;
using X402Serverless.Handler.Usage;
using static X402Serverless.Tests.Credits.CreditsFixture;

namespace X402Serverless.Tests.Credits;

/// <summary>Usage per link and day: 402s, paid calls and calls not charged, counted off the paid path.</summary>
public sealed class UsageCountingTests(CreditsFixture fixture) : IClassFixture<CreditsFixture>
{
    [Fact]
    public async Task Challenges_paid_calls_and_uncharged_failures_are_counted_per_link_and_only_for_its_organisation()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Counted" });
        await fixture.FundAsync(Accounts.Credits(payer.Id), 100_000);
        var ok = await fixture.NewLinkAsync(org, "0.01", ["credits"]);
        var failing = await fixture.NewLinkAsync(org, "0.01", ["credits"], kind: "fail");

        using var anonymous = new HttpClient();
        for (var i = 0; i < 3; i++)
        {
            using var challenged = await anonymous.GetAsync(ok.Url);
            Assert.Equal(HttpStatusCode.PaymentRequired, challenged.StatusCode);
        }
        for (var i = 0; i < 2; i++)
        {
            using var paid = await CallAsync(ok.Url, payer.Key);
            Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        }
        using (var failed = await CallAsync(failing.Url, payer.Key))
        {
            Assert.True((int)failed.StatusCode >= 500);
        }
        await fixture.Gateway.Services.GetRequiredService<UsageRecorder>().FlushAsync(default);

        var usage = await org.GetFromJsonAsync<JsonElement>("/api/usage?days=7");
        var rows = usage.GetProperty("items").EnumerateArray().ToList();
        var okRow = rows.Single(r => r.GetProperty("linkId").GetString() == ok.Id);
        Assert.Equal((3, 2, 0), (okRow.GetProperty("challenged").GetInt64(), okRow.GetProperty("paid").GetInt64(), okRow.GetProperty("notCharged").GetInt64()));
        var failRow = rows.Single(r => r.GetProperty("linkId").GetString() == failing.Id);
        Assert.Equal((0, 0, 1), (failRow.GetProperty("challenged").GetInt64(), failRow.GetProperty("paid").GetInt64(), failRow.GetProperty("notCharged").GetInt64()));
        Assert.Equal(100_000 - 20_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);

        // The CSV export: one line per link and day, names quoted and defused for spreadsheets.
        using (var renamed = await org.PatchAsJsonAsync($"/api/links/{ok.Id}", new { name = "=cmd, \"quoted\"" }))
        {
            Assert.True(renamed.IsSuccessStatusCode);
        }
        using var csv = await org.GetAsync("/api/usage.csv?days=7");
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("day,link_id,link_name,challenged,paid,not_charged,rate_limited,latency_p50_ms,latency_p95_ms", lines[0]);
        Assert.Contains($",{ok.Id},\"'=cmd, \"\"quoted\"\"\",3,2,0,0,", lines.Single(l => l.Contains(ok.Id, StringComparison.Ordinal)), StringComparison.Ordinal);
        // The failing upstream did answer (500): its latency counts, though the call was not charged.
        Assert.Matches($@",{failing.Id},,0,0,1,0,[0-9.]+,[0-9.]+$", lines.Single(l => l.Contains(failing.Id, StringComparison.Ordinal)));

        using var stranger = await fixture.NewOrganisationAsync();
        Assert.Empty((await stranger.GetFromJsonAsync<JsonElement>("/api/usage")).GetProperty("items").EnumerateArray());
        using var bad = await org.GetAsync("/api/usage?days=0");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }
}
