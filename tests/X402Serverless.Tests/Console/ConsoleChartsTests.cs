using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Charges;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Usage;
using X402Serverless.Tests.Credits;
using static X402Serverless.Tests.Credits.CreditsFixture;

namespace X402Serverless.Tests.ProviderConsole;

/// <summary>
/// The figures, charts and per-payer breakdown against known traffic driven through a real gateway: the API's
/// daily report and the console's pages agree, per period, per link and per organisation.
/// </summary>
public sealed class ConsoleChartsTests(CreditsFixture fixture) : IClassFixture<CreditsFixture>
{
    private const string PayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";

    [Fact]
    public async Task Known_traffic_adds_up_the_same_in_the_api_the_charts_table_and_the_link_page()
    {
        var (key, org) = await NewOrganisationAsync();
        using (org)
        {
            var payer = await NewPayerAsync(org, new { name = "Agent" });
            await fixture.FundAsync(Accounts.Credits(payer.Id), 100_000);
            var ok = await fixture.NewLinkAsync(org, "0.01", ["x402", "credits"]);
            var failing = await fixture.NewLinkAsync(org, "0.01", ["credits"], kind: "fail");
            using var anonymous = new HttpClient();
            for (var i = 0; i < 4; i++)
            {
                using var challenged = await anonymous.GetAsync(ok.Url);
                Assert.Equal(HttpStatusCode.PaymentRequired, challenged.StatusCode);
            }
            for (var i = 0; i < 3; i++)
            {
                using var paid = await CallAsync(ok.Url, payer.Key);
                Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
            }
            using (var failed = await CallAsync(failing.Url, payer.Key))
            {
                Assert.True((int)failed.StatusCode >= 500);
            }
            // Two x402 payments as the pipeline records them once settled: one from a customer wallet, one from the
            // link's own payTo (a self-payment). (The chain-backed paid path has its own end-to-end tests.)
            var recorder = fixture.Gateway.Services.GetRequiredService<UsageRecorder>();
            var link = (await fixture.Gateway.Services.GetRequiredService<ILinkStore>().FindAsync(ok.Id, default))!;
            recorder.Charged(link, X402(link, "0x00000000000000000000000000000000000000A1", "10000"));
            recorder.Charged(link, X402(link, "0x" + PayTo[2..].ToUpperInvariant(), "10000"));
            await recorder.FlushAsync(default);

            var report = await org.GetFromJsonAsync<JsonElement>("/api/usage/daily?days=7");
            var totals = report.GetProperty("totals");
            Assert.Equal(7, report.GetProperty("daily").GetArrayLength());
            Assert.Equal((4L, 5L, 1L, 10L), (totals.GetProperty("challenged").GetInt64(), totals.GetProperty("paid").GetInt64(),
                totals.GetProperty("notCharged").GetInt64(), totals.GetProperty("calls").GetInt64()));
            Assert.Equal("0.05", totals.GetProperty("revenue").GetString());
            Assert.Equal("0.03", totals.GetProperty("revenueByType").GetProperty("credits").GetString());
            Assert.Equal("0.02", totals.GetProperty("revenueByType").GetProperty("x402").GetString());
            Assert.Equal(50m, totals.GetProperty("conversionPercent").GetDecimal()); // 2 x402-paid per 4 402s
            var today = report.GetProperty("daily")[6];
            Assert.Equal(report.GetProperty("to").GetString(), today.GetProperty("day").GetString());
            Assert.Equal(5, today.GetProperty("figures").GetProperty("paid").GetInt64());
            Assert.Equal(0, report.GetProperty("daily")[0].GetProperty("figures").GetProperty("calls").GetInt64());

            var payers = (await org.GetFromJsonAsync<JsonElement>("/api/usage/payers?days=7")).GetProperty("items").EnumerateArray().ToList();
            var account = payers.Single(p => p.GetProperty("payer").GetString() == payer.Id);
            Assert.Equal(("payer", 3L, "0.03", false), (account.GetProperty("kind").GetString(), account.GetProperty("calls").GetInt64(),
                account.GetProperty("paid").GetString(), account.GetProperty("selfPayment").GetBoolean()));
            var self = payers.Single(p => p.GetProperty("payer").GetString() == "0x209693bc6afc0c5328ba36faf03c514ef312287c");
            Assert.True(self.GetProperty("selfPayment").GetBoolean());
            Assert.False(payers.Single(p => p.GetProperty("payer").GetString() == "0x00000000000000000000000000000000000000a1").GetProperty("selfPayment").GetBoolean());

            var perLink = await org.GetFromJsonAsync<JsonElement>($"/api/usage/daily?days=7&link={failing.Id}");
            Assert.Equal((1L, 0L), (perLink.GetProperty("totals").GetProperty("errors").GetInt64(), perLink.GetProperty("totals").GetProperty("paid").GetInt64()));

            // The console shows the same figures: totals, the chart's fallback table, accessible SVG, the payers.
            using var session = await ConsoleSession.SignedInAsync(fixture.Gateway, key);
            var (_, html) = await session.GetAsync("/console?days=7");
            Assert.Contains("<dd id=\"total-paid\">5</dd>", html, StringComparison.Ordinal);
            Assert.Contains("<dd id=\"total-revenue\">0.05</dd>", html, StringComparison.Ordinal);
            Assert.Contains("<dd id=\"total-conversion\">50%</dd>", html, StringComparison.Ordinal);
            var row = Regex.Match(html, $"<tr data-day=\"{today.GetProperty("day").GetString()}\">(.*?)</tr>", RegexOptions.Singleline).Groups[1].Value;
            Assert.Contains("<td class=\"num paid\">5</td>", row, StringComparison.Ordinal);
            Assert.Contains("<td class=\"num challenged\">4</td>", row, StringComparison.Ordinal);
            Assert.Contains("<td class=\"num revenue-credits\">0.03</td>", row, StringComparison.Ordinal);
            AssertAccessibleChart(html, "calls-chart");
            AssertAccessibleChart(html, "revenue-chart");
            Assert.Matches("<tr data-payer=\"0x209693bc6afc0c5328ba36faf03c514ef312287c\" class=\"self-payment\">", html);
            Assert.Contains($"<td class=\"num paid-calls\">5</td>", LinkRow(html, ok.Id), StringComparison.Ordinal);

            var (_, page) = await session.GetAsync($"/console/links/{failing.Id}?days=7");
            Assert.Contains("<dd id=\"total-not-charged\">1</dd>", page, StringComparison.Ordinal);
            Assert.Contains("<dd id=\"total-paid\">0</dd>", page, StringComparison.Ordinal);
            AssertAccessibleChart(page, "calls-chart");
        }
    }

    [Fact]
    public async Task Seven_thirty_and_ninety_days_are_plain_links_and_other_periods_are_refused_or_defaulted()
    {
        var (key, org) = await NewOrganisationAsync();
        using (org)
        {
            using var session = await ConsoleSession.SignedInAsync(fixture.Gateway, key);
            foreach (var days in new[] { 7, 30, 90 })
            {
                var (_, html) = await session.GetAsync($"/console?days={days}");
                Assert.Equal(days, Regex.Count(html, "<tr data-day="));
                Assert.Contains($"href=\"/console?days={days}\" aria-current=\"page\"", html, StringComparison.Ordinal);
                Assert.Equal(days, (await org.GetFromJsonAsync<JsonElement>($"/api/usage/daily?days={days}")).GetProperty("daily").GetArrayLength());
            }
            var (_, fallback) = await session.GetAsync("/console?days=100000");
            Assert.Equal(30, Regex.Count(fallback, "<tr data-day="));
            foreach (var bad in new[] { "days=0", "days=367", "days=-1", "days=abc" })
            {
                using var response = await org.GetAsync($"/api/usage/daily?{bad}");
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            }
            using var badLimit = await org.GetAsync("/api/usage/payers?limit=0");
            Assert.Equal(HttpStatusCode.BadRequest, badLimit.StatusCode);
            Assert.Equal("invalid_limit", (await badLimit.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }
    }

    [Fact]
    public async Task An_empty_organisation_has_zeroed_figures_and_another_organisations_link_is_not_found()
    {
        var (ownerKey, owner) = await NewOrganisationAsync();
        var (key, org) = await NewOrganisationAsync();
        using (owner)
        using (org)
        {
            var theirs = await fixture.NewLinkAsync(owner, "0.01", ["x402"]);
            using (var anonymous = new HttpClient())
            using (var challenged = await anonymous.GetAsync(theirs.Url))
            {
                Assert.Equal(HttpStatusCode.PaymentRequired, challenged.StatusCode);
            }
            await fixture.Gateway.Services.GetRequiredService<UsageRecorder>().FlushAsync(default);
            Assert.Equal(1, (await owner.GetFromJsonAsync<JsonElement>("/api/usage/daily")).GetProperty("totals").GetProperty("challenged").GetInt64());

            var report = await org.GetFromJsonAsync<JsonElement>("/api/usage/daily");
            Assert.Equal(0, report.GetProperty("totals").GetProperty("calls").GetInt64());
            Assert.Equal(JsonValueKind.Null, report.GetProperty("totals").GetProperty("conversionPercent").ValueKind);
            Assert.Empty(report.GetProperty("links").EnumerateArray());
            Assert.Empty((await org.GetFromJsonAsync<JsonElement>("/api/usage/payers")).GetProperty("items").EnumerateArray());
            using (var foreign = await org.GetAsync($"/api/usage/daily?link={theirs.Id}"))
            {
                Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
            }
            using (var foreign = await org.GetAsync($"/api/usage/payers?link={theirs.Id}"))
            {
                Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
            }

            using var session = await ConsoleSession.SignedInAsync(fixture.Gateway, key);
            var (_, html) = await session.GetAsync("/console");
            Assert.Contains("<dd id=\"total-calls\">0</dd>", html, StringComparison.Ordinal);
            Assert.Contains("<dd id=\"total-conversion\">–</dd>", WebUtility.HtmlDecode(html), StringComparison.Ordinal);
            Assert.Contains("id=\"no-payers-period\"", html, StringComparison.Ordinal);
            Assert.DoesNotContain(theirs.Id, html, StringComparison.Ordinal);
            AssertAccessibleChart(html, "calls-chart");
            var (status, _) = await session.GetAsync($"/console/links/{theirs.Id}?days=7");
            Assert.Equal(HttpStatusCode.NotFound, status);
        }
    }

    // role="img" named and described by its own <title> and <desc>, with axis titles.
    private static void AssertAccessibleChart(string html, string id)
    {
        var svg = Regex.Match(html, $"<figure class=\"chart\" id=\"{id}\">\\s*<svg[^>]*role=\"img\" aria-labelledby=\"{id}-title {id}-desc\"[^>]*>(.*?)</svg>", RegexOptions.Singleline);
        Assert.True(svg.Success, $"no accessible svg {id}");
        Assert.Matches($"<title id=\"{id}-title\">[^<]+</title>", svg.Groups[1].Value);
        Assert.Matches($"<desc id=\"{id}-desc\">From [^<]+table[^<]*</desc>", svg.Groups[1].Value);
        Assert.Contains(">Day (UTC)</text>", svg.Groups[1].Value, StringComparison.Ordinal);
        Assert.Contains("<polyline", svg.Groups[1].Value, StringComparison.Ordinal);
    }

    private static string LinkRow(string html, string linkId) =>
        Regex.Match(html, $"<tr id=\"link-{Regex.Escape(linkId)}\".*?</tr>", RegexOptions.Singleline).Value;

    private static X402Receipt X402(X402Serverless.Core.Links.PaidLink link, string payer, string amount)
    {
        var now = DateTimeOffset.UtcNow;
        var payment = new PaymentRecord
        {
            Id = "pay_" + Guid.NewGuid().ToString("N"), LinkId = link.Id, OrganisationId = link.OrganisationId, Network = "eip155:84532",
            Asset = "0x036CbD53842c5426634e7929541eC2318f3dCF7e", Payer = payer, PayTo = link.PayTo, Nonce = "0x" + Guid.NewGuid().ToString("N"),
            Amount = TokenAmount.Parse(amount), X402Version = 2, Status = PaymentStatus.Settled, CreatedAt = now, UpdatedAt = now,
        };
        return new X402Receipt(2, payment, payment.Network, "0x" + new string('c', 64), Deferred: false);
    }

    private async Task<(string Key, HttpClient Org)> NewOrganisationAsync()
    {
        using var response = await fixture.Gateway.Admin.PostAsJsonAsync("/api/organisations", new { name = $"Charts {Guid.NewGuid():N}" });
        var key = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        return (key, fixture.Gateway.Client(key));
    }
}
