using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using X402Serverless.Core.Ledger;
using Xunit.Abstractions;
using static X402Serverless.Tests.Credits.CreditsFixture;

namespace X402Serverless.Tests.Credits;

public sealed class CreditPaymentTests(CreditsFixture fixture, ITestOutputHelper output) : IClassFixture<CreditsFixture>
{
    [Fact]
    public async Task Five_hundred_parallel_debits_against_a_balance_for_exactly_100_calls_let_exactly_100_through()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Busy agent" });
        var link = await fixture.NewLinkAsync(org, "0.01", ["credits"]);
        await fixture.FundAsync(Accounts.Credits(payer.Id), 100 * 10_000);

        using var start = new ManualResetEventSlim();
        var clock = Stopwatch.StartNew();
        var calls = Enumerable.Range(0, 500).Select(_ => Task.Run(async () =>
        {
            start.Wait();
            using var response = await CallAsync(link.Url, payer.Key);
            return (int)response.StatusCode;
        })).ToList();
        start.Set();
        var statuses = await Task.WhenAll(calls);

        output.WriteLine($"500 parallel debits in {clock.ElapsedMilliseconds} ms: 200={statuses.Count(s => s == 200)} 402={statuses.Count(s => s == 402)} " +
            $"other={statuses.Count(s => s is not (200 or 402))}; upstream calls={fixture.Upstream.Hits(link.Path)}; balance={await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)}");
        Assert.Equal(100, statuses.Count(s => s == 200));
        Assert.Equal(400, statuses.Count(s => s == 402));
        Assert.Equal(0, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
        Assert.Equal(100, fixture.Upstream.Hits(link.Path));
        Assert.Equal(0, (await fixture.Ledger.TotalAsync(default)).Micros);

        var trial = await fixture.Gateway.Admin.GetFromJsonAsync<JsonElement>("/api/ledger/trial-balance");
        Assert.Equal("0.00", trial.GetProperty("total").GetString());
        Assert.True(trial.GetProperty("consistent").GetBoolean());
        using var forbidden = await org.GetAsync("/api/ledger/trial-balance");
        Assert.Equal(403, (int)forbidden.StatusCode);
    }

    [Fact]
    public async Task A_member_spends_the_allowance_first_then_personal_credits_then_gets_402()
    {
        using var org = await fixture.NewOrganisationAsync();
        var member = await NewPayerAsync(org, new { name = "Member", monthlyAllowance = "0.02" });
        var link = await fixture.NewLinkAsync(org, "0.01", ["allowance", "credits"]);
        await fixture.FundAsync(Accounts.Allowance(member.OrganisationId, member.Id), 20_000);
        await fixture.FundAsync(Accounts.Credits(member.Id), 10_000);

        var sources = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var ok = await CallAsync(link.Url, member.Key);
            Assert.Equal(200, (int)ok.StatusCode);
            sources.Add(ok.Headers.GetValues("X-Charged-From").Single());
        }
        Assert.Equal(["allowance", "allowance", "credits"], sources);

        using var refused = await CallAsync(link.Url, member.Key);
        Assert.Equal(402, (int)refused.StatusCode);
        var body = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("insufficient_credits", body.GetProperty("error").GetString());
        var required = JsonDocument.Parse(Convert.FromBase64String(refused.Headers.GetValues("PAYMENT-REQUIRED").Single())).RootElement;
        Assert.EndsWith("/api/me/topup", required.GetProperty("extensions").GetProperty("credits").GetProperty("topUpUrl").GetString(), StringComparison.Ordinal);
        Assert.Equal(3, fixture.Upstream.Hits(link.Path));

        using var me = fixture.Gateway.Client(member.Key);
        var account = await me.GetFromJsonAsync<JsonElement>("/api/me");
        Assert.Equal("0.00", account.GetProperty("credits").GetString());
        Assert.Equal("0.00", account.GetProperty("allowanceLeft").GetString());
        Assert.Equal("0.03", account.GetProperty("spentThisMonth").GetString());
        var usage = await me.GetFromJsonAsync<JsonElement>("/api/me/usage");
        // The payer's statement lists each paid call once, as its capture.
        Assert.Equal(3, usage.GetProperty("items").EnumerateArray().Count(u => u.GetProperty("kind").GetString() == "capture"));
        Assert.DoesNotContain(usage.GetProperty("items").EnumerateArray(), u => u.GetProperty("kind").GetString() == "hold");
    }

    [Fact]
    public async Task A_failed_upstream_call_costs_nothing_and_a_captured_one_pays_the_provider_minus_the_fee()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Payer" });
        var failing = await fixture.NewLinkAsync(org, "1.00", ["credits"], kind: "fail");
        var working = await fixture.NewLinkAsync(org, "1.00", ["credits"]);
        await fixture.FundAsync(Accounts.Credits(payer.Id), 1_000_000);

        using (var failed = await CallAsync(failing.Url, payer.Key))
        {
            Assert.Equal(500, (int)failed.StatusCode);
            Assert.False(failed.Headers.Contains("X-Charged"));
        }
        Assert.Equal(1_000_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
        using (var ok = await CallAsync(working.Url, payer.Key))
        {
            Assert.Equal(200, (int)ok.StatusCode);
            Assert.Equal("1.00", ok.Headers.GetValues("X-Charged").Single());
        }
        Assert.Equal(0, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
        var balances = await org.GetFromJsonAsync<JsonElement>("/api/organisation/balances");
        Assert.Equal("0.99", balances.GetProperty("earnings").GetString()); // 1% operator fee
    }

    [Fact]
    public async Task Caps_stop_spending_a_monthly_payer_cap_a_daily_link_cap_and_an_organisation_budget()
    {
        using var org = await fixture.NewOrganisationAsync();
        var capped = await NewPayerAsync(org, new { name = "Capped", monthlyCap = "0.02" });
        var link = await fixture.NewLinkAsync(org, "0.01", ["credits", "allowance"]);
        await fixture.FundAsync(Accounts.Credits(capped.Id), 1_000_000);
        Assert.Equal(new[] { 200, 200, 402 }, await StatusesAsync(link.Url, capped.Key, 3));

        var daily = await fixture.NewLinkAsync(org, "0.01", ["credits"], extra: new { dailyCapPerPayer = "0.01" });
        var payer = await NewPayerAsync(org, new { name = "Daily" });
        await fixture.FundAsync(Accounts.Credits(payer.Id), 1_000_000);
        Assert.Equal(new[] { 200, 402 }, await StatusesAsync(daily.Url, payer.Key, 2));

        using (var budget = await org.PutAsJsonAsync("/api/organisation/budget", new { monthlyBudget = "0.01" }))
        {
            Assert.True(budget.IsSuccessStatusCode);
        }
        var member = await NewPayerAsync(org, new { name = "Budgeted member", monthlyAllowance = "1.00" });
        await fixture.FundAsync(Accounts.Allowance(member.OrganisationId, member.Id), 1_000_000);
        var allowanceOnly = await fixture.NewLinkAsync(org, "0.01", ["allowance"]);
        Assert.Equal(new[] { 200, 402 }, await StatusesAsync(allowanceOnly.Url, member.Key, 2));

        using var last = await CallAsync(allowanceOnly.Url, member.Key);
        Assert.Equal("spending_cap_reached", (await last.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task The_charge_policy_decides_whether_a_4xx_answer_is_paid_for()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Looker-upper" });
        await fixture.FundAsync(Accounts.Credits(payer.Id), 1_000_000);
        var strict = await fixture.NewLinkAsync(org, "0.10", ["credits"], kind: "missing");
        var lenient = await fixture.NewLinkAsync(org, "0.10", ["credits"], kind: "missing", extra: new { chargeOn = "below-500" });

        using (var free = await CallAsync(strict.Url, payer.Key))
        {
            Assert.Equal(404, (int)free.StatusCode);
            Assert.False(free.Headers.Contains("X-Charged"));
        }
        using (var paid = await CallAsync(lenient.Url, payer.Key))
        {
            Assert.Equal(404, (int)paid.StatusCode);
            Assert.Equal("0.10", paid.Headers.GetValues("X-Charged").Single());
        }
        Assert.Equal(900_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
    }

    [Fact]
    public async Task A_trusted_payer_with_a_credit_limit_may_go_below_zero_down_to_it()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Trusted", creditLimit = "0.02" });
        var link = await fixture.NewLinkAsync(org, "0.01", ["credits"]);
        Assert.Equal(new[] { 200, 200, 402 }, await StatusesAsync(link.Url, payer.Key, 3));
        Assert.Equal(-20_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
    }

    [Fact]
    public async Task Bad_payer_keys_and_links_that_take_no_balances_are_refused_clearly()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "P" });
        var x402Only = await fixture.NewLinkAsync(org, "0.01", ["x402"]);
        using (var wrongKey = await CallAsync(x402Only.Url, "x402pk_not_a_key"))
        {
            Assert.Equal(401, (int)wrongKey.StatusCode);
        }
        using var notAccepted = await CallAsync(x402Only.Url, payer.Key);
        Assert.Equal(402, (int)notAccepted.StatusCode);
        Assert.Equal("payment_type_not_accepted", (await notAccepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        Assert.Equal(0, fixture.Upstream.Hits(x402Only.Path));

        using var badPayer = await org.PostAsync("/api/payers", new StringContent("""{"name":"x","monthlyAllowance":"lots"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(400, (int)badPayer.StatusCode);
        Assert.Equal("invalid_amount", (await badPayer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }

    private static async Task<int[]> StatusesAsync(string url, string key, int count)
    {
        var statuses = new int[count];
        for (var i = 0; i < count; i++)
        {
            using var response = await CallAsync(url, key);
            statuses[i] = (int)response.StatusCode;
        }
        return statuses;
    }
}
