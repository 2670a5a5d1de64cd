using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.ProviderConsole;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Links;

/// <summary>
/// A link its organisation disables: the paid URL answers 403 link_disabled before any payment is looked at (an x402
/// payment or a payer key), nothing is charged and the upstream is not called; enabling it again restores it. Set
/// through PATCH /api/links/{id} and the console's Disable/Enable form, by its owner only.
/// </summary>
public sealed class DisabledLinkTests : IAsyncLifetime
{
    private const string PayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
    private GatewayHost _gateway = null!;
    private TestUpstream _upstream = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        // No facilitator listens here: a payment that reached verification would fail with another answer than 403.
        _gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task A_disabled_link_refuses_x402_and_payer_key_calls_before_any_charge_and_works_again_when_enabled()
    {
        var (_, org) = await NewOrganisationAsync();
        using (org)
        {
            var path = $"/ok/{Guid.NewGuid():N}";
            var (id, url) = await _gateway.CreateLinkAsync(new { upstream = _upstream.BaseUrl + path, price = "0.01", payTo = PayTo, accepts = new[] { "x402", "credits" } }, org);
            var payer = await NewFundedPayerAsync(org);
            using var anonymous = new HttpClient();
            using var challenge = await anonymous.GetAsync(url);
            Assert.Equal(HttpStatusCode.PaymentRequired, challenge.StatusCode);
            var payment = new PaymentBuilder { Requirement = PaymentBuilder.RequirementFrom(challenge), PayerKey = RandomNumberGenerator.GetBytes(32) }.V2Header();
            Assert.False((await org.GetFromJsonAsync<JsonElement>($"/api/links/{id}")).GetProperty("disabled").GetBoolean());

            using (var disable = await org.PatchAsJsonAsync($"/api/links/{id}", new { disabled = true }))
            {
                Assert.Equal(HttpStatusCode.OK, disable.StatusCode);
                Assert.True((await disable.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("disabled").GetBoolean());
            }
            Assert.True((await org.GetFromJsonAsync<JsonElement>($"/api/links/{id}")).GetProperty("disabled").GetBoolean());
            Assert.True((await org.GetFromJsonAsync<JsonElement>("/api/links")).GetProperty("items").EnumerateArray()
                .Single(l => l.GetProperty("id").GetString() == id).GetProperty("disabled").GetBoolean());

            // Every way in gets the same answer, at once on this instance (the editor drops the cached link).
            await ProblemAssert.IsAsync(await anonymous.GetAsync(url), 403, "link_disabled");
            await ProblemAssert.IsAsync(await CallAsync(url, ("PAYMENT-SIGNATURE", payment)), 403, "link_disabled");
            await ProblemAssert.IsAsync(await CallAsync(url, ("Authorization", $"Bearer {payer.Key}")), 403, "link_disabled");
            await ProblemAssert.IsAsync(await CallAsync(url + "/deeper?x=1", ("Authorization", $"Bearer {payer.Key}")), 403, "link_disabled");
            Assert.Equal(0, _upstream.Hits(path));
            Assert.Equal(100_000, (await BalanceAsync(payer.Id)).Micros);
            Assert.Empty((await org.GetFromJsonAsync<JsonElement>("/api/payments")).GetProperty("items").EnumerateArray());

            // Other changes keep it disabled; only disabled=false enables it.
            (await org.PatchAsJsonAsync($"/api/links/{id}", new { name = "Renamed" })).EnsureSuccessStatusCode();
            await ProblemAssert.IsAsync(await CallAsync(url, ("Authorization", $"Bearer {payer.Key}")), 403, "link_disabled");

            using (var enable = await org.PatchAsJsonAsync($"/api/links/{id}", new { disabled = false }))
            {
                Assert.Equal(HttpStatusCode.OK, enable.StatusCode);
                Assert.False((await enable.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("disabled").GetBoolean());
            }
            Assert.Equal(HttpStatusCode.PaymentRequired, (await anonymous.GetAsync(url)).StatusCode);
            using (var paid = await CallAsync(url, ("Authorization", $"Bearer {payer.Key}")))
            {
                Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
            }
            Assert.Equal(1, _upstream.Hits(path));
            Assert.Equal(100_000 - 10_000, (await BalanceAsync(payer.Id)).Micros);

            // The change is audited like any other link update, before and after.
            var entry = (await org.GetFromJsonAsync<JsonElement>("/api/audit?action=link.update")).GetProperty("items").EnumerateArray()
                .First(e => e.GetProperty("targetId").GetString() == id && e.GetProperty("status").GetInt32() == 200);
            // The newest is the enabling.
            Assert.True(JsonDocument.Parse(entry.GetProperty("before").GetString()!).RootElement.GetProperty("disabled").GetBoolean());
            Assert.False(JsonDocument.Parse(entry.GetProperty("after").GetString()!).RootElement.GetProperty("disabled").GetBoolean());
        }
    }

    [Fact]
    public async Task Another_organisation_cannot_disable_or_enable_a_link_and_bad_values_are_refused()
    {
        var (_, owner) = await NewOrganisationAsync();
        var (_, stranger) = await NewOrganisationAsync();
        using (owner)
        using (stranger)
        {
            var (id, url) = await _gateway.CreateLinkAsync(new { upstream = _upstream.BaseUrl + "/ok/x", price = "0.01", payTo = PayTo }, owner);
            await ProblemAssert.IsAsync(await stranger.PatchAsJsonAsync($"/api/links/{id}", new { disabled = true }), 404, "not_found");
            using var anonymous = new HttpClient();
            Assert.Equal(HttpStatusCode.PaymentRequired, (await anonymous.GetAsync(url)).StatusCode);
            Assert.False((await owner.GetFromJsonAsync<JsonElement>($"/api/links/{id}")).GetProperty("disabled").GetBoolean());

            (await owner.PatchAsJsonAsync($"/api/links/{id}", new { disabled = true })).EnsureSuccessStatusCode();
            await ProblemAssert.IsAsync(await stranger.PatchAsJsonAsync($"/api/links/{id}", new { disabled = false }), 404, "not_found");
            await ProblemAssert.IsAsync(await anonymous.GetAsync(url), 403, "link_disabled");

            using var wrongType = await owner.PatchAsync($"/api/links/{id}", new StringContent("""{"disabled":"no"}""", System.Text.Encoding.UTF8, "application/json"));
            await ProblemAssert.IsAsync(wrongType, 400, "invalid_type");
            Assert.True((await owner.GetFromJsonAsync<JsonElement>($"/api/links/{id}")).GetProperty("disabled").GetBoolean());

            // A role without links.manage cannot change it.
            using var readOnly = _gateway.Client(await ConsoleRolesTests.NewKeyAsync(owner, "read-only"));
            Assert.Equal(HttpStatusCode.Forbidden, (await readOnly.PatchAsJsonAsync($"/api/links/{id}", new { disabled = false })).StatusCode);
            await ProblemAssert.IsAsync(await anonymous.GetAsync(url), 403, "link_disabled");
        }
    }

    [Fact]
    public async Task The_console_disables_and_enables_a_link_with_its_antiforgery_token_for_its_owner_only()
    {
        var (key, org) = await NewOrganisationAsync();
        var (otherKey, other) = await NewOrganisationAsync();
        using (org)
        using (other)
        {
            var (id, url) = await _gateway.CreateLinkAsync(new { upstream = _upstream.BaseUrl + "/ok/c", price = "0.01", payTo = PayTo }, org);
            var (otherId, _) = await _gateway.CreateLinkAsync(new { upstream = _upstream.BaseUrl + "/ok/d", price = "0.01", payTo = PayTo }, other);
            using var session = await ConsoleSession.SignedInAsync(_gateway, key);
            var page = $"/console/links/{id}";
            var (_, html) = await session.GetAsync(page);
            Assert.Contains("<dd id=\"link-status\">enabled</dd>", html, StringComparison.Ordinal);
            Assert.Contains("id=\"disable-link\"", html, StringComparison.Ordinal);

            using (var forged = await session.PostFormAsync(page, "toggle-link", new() { ["disabled"] = "true" }, withToken: false))
            {
                Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
            }
            using (var intruder = await ConsoleSession.SignedInAsync(_gateway, otherKey))
            using (var foreign = await intruder.PostFormAsync(page, "toggle-link", new() { ["disabled"] = "true" }, tokenFrom: $"/console/links/{otherId}"))
            {
                Assert.Contains(foreign.StatusCode, new[] { HttpStatusCode.NotFound, HttpStatusCode.BadRequest });
            }
            using (var readOnly = await ConsoleSession.SignedInAsync(_gateway, await ConsoleRolesTests.NewKeyAsync(org, "read-only")))
            using (var refused = await readOnly.PostFormAsync(page, "toggle-link", new() { ["disabled"] = "true" }, tokenFrom: "/console"))
            {
                Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            }
            Assert.False((await org.GetFromJsonAsync<JsonElement>($"/api/links/{id}")).GetProperty("disabled").GetBoolean());

            using (var disabled = await session.PostFormAsync(page, "toggle-link", new() { ["disabled"] = "true" }))
            {
                Assert.Equal(HttpStatusCode.Found, disabled.StatusCode);
            }
            Assert.True((await org.GetFromJsonAsync<JsonElement>($"/api/links/{id}")).GetProperty("disabled").GetBoolean());
            using var anonymous = new HttpClient();
            await ProblemAssert.IsAsync(await anonymous.GetAsync(url), 403, "link_disabled");
            (_, html) = await session.GetAsync(page);
            Assert.Contains("<dd id=\"link-status\">disabled</dd>", html, StringComparison.Ordinal);
            Assert.Contains("id=\"disabled-notice\"", html, StringComparison.Ordinal);
            Assert.Contains("id=\"enable-link\"", html, StringComparison.Ordinal);
            var entry = (await org.GetFromJsonAsync<JsonElement>("/api/audit?action=link.update")).GetProperty("items")[0];
            Assert.Equal(id, entry.GetProperty("targetId").GetString());
            Assert.True(JsonDocument.Parse(entry.GetProperty("after").GetString()!).RootElement.GetProperty("disabled").GetBoolean());
            Assert.False(JsonDocument.Parse(entry.GetProperty("before").GetString()!).RootElement.GetProperty("disabled").GetBoolean());

            // The same post twice leaves it disabled: the form names the state it wants.
            using (var again = await session.PostFormAsync(page, "toggle-link", new() { ["disabled"] = "true" }))
            {
                Assert.Equal(HttpStatusCode.Found, again.StatusCode);
            }
            Assert.True((await org.GetFromJsonAsync<JsonElement>($"/api/links/{id}")).GetProperty("disabled").GetBoolean());

            using (var enabled = await session.PostFormAsync(page, "toggle-link", new() { ["disabled"] = "false" }))
            {
                Assert.Equal(HttpStatusCode.Found, enabled.StatusCode);
            }
            Assert.False((await org.GetFromJsonAsync<JsonElement>($"/api/links/{id}")).GetProperty("disabled").GetBoolean());
            Assert.Equal(HttpStatusCode.PaymentRequired, (await anonymous.GetAsync(url)).StatusCode);
        }
    }

    private async Task<(string Key, HttpClient Api)> NewOrganisationAsync()
    {
        using var response = await _gateway.Admin.PostAsJsonAsync("/api/organisations", new { name = $"Org {Guid.NewGuid():N}" });
        var key = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        return (key, _gateway.Client(key));
    }

    private async Task<(string Id, string Key)> NewFundedPayerAsync(HttpClient org)
    {
        using var response = await org.PostAsJsonAsync("/api/payers", new { name = "Disabled-link payer" });
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = json.GetProperty("payer").GetProperty("id").GetString()!;
        var ledger = _gateway.Services.GetRequiredService<ILedger>();
        await ledger.PostAsync(LedgerEntry.Transfer($"test-fund:{Guid.NewGuid():N}", "topup", Accounts.CardClearing, Accounts.Credits(id), Usd.FromMicros(100_000)), [], default);
        return (id, json.GetProperty("key").GetString()!);
    }

    private Task<Usd> BalanceAsync(string payerId) => _gateway.Services.GetRequiredService<ILedger>().BalanceAsync(Accounts.Credits(payerId), default);

    private static async Task<HttpResponseMessage> CallAsync(string url, (string Name, string Value) header)
    {
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation(header.Name, header.Value);
        return await client.SendAsync(request);
    }
}
