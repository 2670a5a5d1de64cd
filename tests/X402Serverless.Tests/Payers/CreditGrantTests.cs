using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.ProviderConsole;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Payers;

/// <summary>
/// POST /api/payers/{id}/credits: an organisation grants one of its payers credits from its earnings, exactly the
/// amount, refused when the earnings do not cover it, posted once per Idempotency-Key, for billing and admin keys only.
/// </summary>
public sealed class CreditGrantTests : IAsyncLifetime
{
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync() => _gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private ILedger Ledger => _gateway.Services.GetRequiredService<ILedger>();

    [Fact]
    public async Task A_grant_moves_exactly_its_amount_from_earnings_to_the_payer_and_a_replay_posts_it_once()
    {
        var (orgId, org) = await NewOrganisationAsync();
        using (org)
        {
            await FundEarningsAsync(orgId, "10.00");
            var payerId = await NewPayerAsync(org);
            var before = await Ledger.TotalAsync(default);

            using (var granted = await GrantAsync(org, payerId, new { amount = "2.50", memo = "Welcome credit" }, "grant-key-000000001"))
            {
                Assert.Equal(HttpStatusCode.Created, granted.StatusCode);
                var body = await granted.Content.ReadFromJsonAsync<JsonElement>();
                Assert.Equal(Usd.Parse("2.50"), Usd.Parse(body.GetProperty("credits").GetString()!));
                Assert.Equal(Usd.Parse("7.50"), Usd.Parse(body.GetProperty("earnings").GetString()!));
                Assert.False(body.GetProperty("replayed").GetBoolean());
            }
            Assert.Equal(Usd.Parse("2.50"), await Ledger.BalanceAsync(Accounts.Credits(payerId), default));
            Assert.Equal(Usd.Parse("7.50"), await Ledger.BalanceAsync(Accounts.Earnings(orgId), default));

            using (var replay = await GrantAsync(org, payerId, new { amount = "2.50", memo = "Welcome credit" }, "grant-key-000000001"))
            {
                Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
                Assert.True((await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("replayed").GetBoolean());
            }
            Assert.Equal(Usd.Parse("2.50"), await Ledger.BalanceAsync(Accounts.Credits(payerId), default));
            Assert.Equal(Usd.Parse("7.50"), await Ledger.BalanceAsync(Accounts.Earnings(orgId), default));
            // The ledger stays balanced: nothing was created.
            Assert.Equal(before, await Ledger.TotalAsync(default));

            // The payer's view and the organisation's balances show it.
            var view = await org.GetFromJsonAsync<JsonElement>($"/api/payers/{payerId}");
            Assert.Equal(Usd.Parse("2.50"), Usd.Parse(view.GetProperty("credits").GetString()!));
            var entry = (await org.GetFromJsonAsync<JsonElement>("/api/audit?action=payer.credit.create")).GetProperty("items")[0];
            Assert.Equal("succeeded", entry.GetProperty("outcome").GetString());

            // The same key for another amount is a mistake, not a second grant.
            using (var conflicting = await GrantAsync(org, payerId, new { amount = "5.00" }, "grant-key-000000001"))
            {
                await ProblemAssert.IsAsync(conflicting, 409, "idempotency_key_conflict");
            }
            Assert.Equal(Usd.Parse("2.50"), await Ledger.BalanceAsync(Accounts.Credits(payerId), default));
            Assert.Equal(Usd.Parse("7.50"), await Ledger.BalanceAsync(Accounts.Earnings(orgId), default));
        }
    }

    [Fact]
    public async Task A_grant_the_earnings_do_not_cover_is_refused_and_changes_nothing()
    {
        var (orgId, org) = await NewOrganisationAsync();
        using (org)
        {
            await FundEarningsAsync(orgId, "1.00");
            var payerId = await NewPayerAsync(org);
            await ProblemAssert.IsAsync(await GrantAsync(org, payerId, new { amount = "1.01" }, "too-much-000000001"), 409, "earnings_insufficient");
            Assert.Equal(Usd.Zero, await Ledger.BalanceAsync(Accounts.Credits(payerId), default));
            Assert.Equal(Usd.Parse("1.00"), await Ledger.BalanceAsync(Accounts.Earnings(orgId), default));

            // Exactly what there is is covered.
            Assert.Equal(HttpStatusCode.Created, (await GrantAsync(org, payerId, new { amount = "1.00" }, "exact-00000000001")).StatusCode);
            Assert.Equal(Usd.Zero, await Ledger.BalanceAsync(Accounts.Earnings(orgId), default));

            await ProblemAssert.IsAsync(await GrantAsync(org, payerId, new { amount = "0" }, null), 400, "invalid_amount");
            await ProblemAssert.IsAsync(await GrantAsync(org, payerId, new { amount = "-1" }, null), 400, "invalid_amount");
            await ProblemAssert.IsAsync(await GrantAsync(org, payerId, new { amount = "1.00", memo = new string('m', 201) }, null), 400, "invalid_memo");
            await ProblemAssert.IsAsync(await GrantAsync(org, payerId, new { amount = "1.00", extra = 1 }, null), 400, "unknown_field");
            await ProblemAssert.IsAsync(await GrantAsync(org, payerId, new { amount = "1.00" }, "bad key!"), 400, "invalid_idempotency_key");
        }
    }

    [Fact]
    public async Task Another_organisations_payer_is_not_found_and_only_billing_and_admin_keys_grant()
    {
        var (orgId, org) = await NewOrganisationAsync();
        var (strangerId, stranger) = await NewOrganisationAsync();
        using (org)
        using (stranger)
        {
            await FundEarningsAsync(orgId, "5.00");
            await FundEarningsAsync(strangerId, "5.00");
            var payerId = await NewPayerAsync(org);
            await ProblemAssert.IsAsync(await GrantAsync(stranger, payerId, new { amount = "1.00" }, null), 404, "not_found");
            Assert.Equal(Usd.Parse("5.00"), await Ledger.BalanceAsync(Accounts.Earnings(strangerId), default));

            foreach (var (role, allowed) in new[] { ("billing", true), ("admin", true), ("developer", false), ("read-only", false) })
            {
                using var keyed = _gateway.Client(await ConsoleRolesTests.NewKeyAsync(org, role));
                using var answer = await GrantAsync(keyed, payerId, new { amount = "0.10" }, null);
                Assert.Equal(allowed ? HttpStatusCode.Created : HttpStatusCode.Forbidden, answer.StatusCode);
            }
            Assert.Equal(Usd.Parse("0.20"), await Ledger.BalanceAsync(Accounts.Credits(payerId), default));
        }
    }

    [Fact]
    public async Task The_console_grants_from_the_payer_page_once_per_form_with_its_antiforgery_token()
    {
        var (orgId, org) = await NewOrganisationAsync();
        using (org)
        {
            await FundEarningsAsync(orgId, "3.00");
            var payerId = await NewPayerAsync(org);
            var key = (await NewKeyAsync(org, "billing"));
            using var session = await ConsoleSession.SignedInAsync(_gateway, key);
            var page = $"/console/payers/{payerId}";
            var (status, html) = await session.GetAsync(page);
            Assert.Equal(HttpStatusCode.OK, status);
            var formKey = System.Text.RegularExpressions.Regex.Match(html, "name=\"Grant.IdempotencyKey\" value=\"([^\"]+)\"").Groups[1].Value;
            Assert.NotEmpty(formKey);

            using (var forged = await session.PostFormAsync(page, "grant-credits", new() { ["Grant.Amount"] = "1.00", ["Grant.IdempotencyKey"] = formKey }, withToken: false))
            {
                Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
            }
            for (var i = 0; i < 2; i++)
            {
                using var granted = await session.PostFormAsync(page, "grant-credits", new() { ["Grant.Amount"] = "1.00", ["Grant.Memo"] = "Thanks", ["Grant.IdempotencyKey"] = formKey });
                Assert.Equal(HttpStatusCode.Found, granted.StatusCode);
            }
            Assert.Equal(Usd.Parse("1.00"), await Ledger.BalanceAsync(Accounts.Credits(payerId), default));
            using (var tooMuch = await session.PostFormAsync(page, "grant-credits", new() { ["Grant.Amount"] = "5.00", ["Grant.IdempotencyKey"] = "console-grant-2" }))
            {
                Assert.Equal(HttpStatusCode.Conflict, tooMuch.StatusCode);
                Assert.Contains("earnings_insufficient", await tooMuch.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
            using (var developer = await ConsoleSession.SignedInAsync(_gateway, await NewKeyAsync(org, "developer")))
            using (var refused = await developer.PostFormAsync(page, "grant-credits", new() { ["Grant.Amount"] = "1.00", ["Grant.IdempotencyKey"] = "console-grant-3" }, tokenFrom: "/console"))
            {
                Assert.NotEqual(HttpStatusCode.Found, refused.StatusCode);
            }
            Assert.Equal(Usd.Parse("1.00"), await Ledger.BalanceAsync(Accounts.Credits(payerId), default));
            var entry = (await org.GetFromJsonAsync<JsonElement>("/api/audit?action=payer.credit.create")).GetProperty("items")[0];
            Assert.Equal(payerId, entry.GetProperty("targetId").GetString());
        }
    }

    private static Task<string> NewKeyAsync(HttpClient org, string role) => ConsoleRolesTests.NewKeyAsync(org, role);

    private async Task<(string Id, HttpClient Api)> NewOrganisationAsync()
    {
        using var response = await _gateway.Admin.PostAsJsonAsync("/api/organisations", new { name = $"Org {Guid.NewGuid():N}" });
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (json.GetProperty("id").GetString()!, _gateway.Client(json.GetProperty("key").GetString()!));
    }

    private static async Task<string> NewPayerAsync(HttpClient org)
    {
        using var response = await org.PostAsJsonAsync("/api/payers", new { name = "Granted" });
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("payer").GetProperty("id").GetString()!;
    }

    // Earnings as a paid call would leave them: money that came in from outside.
    private async Task FundEarningsAsync(string organisationId, string amount) =>
        await Ledger.PostAsync(LedgerEntry.Transfer($"test-earn:{Guid.NewGuid():N}", "test", Accounts.CardClearing, Accounts.Earnings(organisationId), Usd.Parse(amount)), [], default);

    private static async Task<HttpResponseMessage> GrantAsync(HttpClient client, string payerId, object body, string? idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/payers/{payerId}/credits") { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }
        return await client.SendAsync(request);
    }
}
