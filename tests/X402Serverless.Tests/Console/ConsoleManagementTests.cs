using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.ProviderConsole;

/// <summary>
/// Managing from the console over plain HTTP, as a browser posts its forms: deleting links, payers and their keys,
/// the organisation's keys and the CSV downloads, each with its role, antiforgery, audit entry and isolation.
/// </summary>
public sealed partial class ConsoleManagementTests(ConsoleFixture fixture) : IClassFixture<ConsoleFixture>
{
    private GatewayHost Gateway => fixture.Gateway;

    private static async Task<JsonElement> LastAuditAsync(HttpClient api, string action) =>
        (await api.GetFromJsonAsync<JsonElement>($"/api/audit?action={action}")).GetProperty("items")[0];

    [Fact]
    public async Task Deleting_a_link_takes_a_confirm_step_the_antiforgery_token_and_the_owners_session_and_is_audited()
    {
        var (key, api) = await fixture.NewOrganisationAsync("Console deleter");
        var (otherKey, other) = await fixture.NewOrganisationAsync("Console delete intruder");
        using (api)
        using (other)
        {
            var (id, _) = await fixture.CreateLinkAsync(api, "Doomed API");
            var (otherId, _) = await fixture.CreateLinkAsync(other, "Intruder's API");
            using var session = await ConsoleSession.SignedInAsync(Gateway, key);

            var (_, page) = await session.GetAsync($"/console/links/{id}");
            Assert.Contains($"href=\"/console/links/{id}?delete=confirm\"", page, StringComparison.Ordinal);
            Assert.DoesNotContain("id=\"delete-link-form\"", page, StringComparison.Ordinal);
            var confirm = $"/console/links/{id}?delete=confirm";
            var (_, question) = await session.GetAsync(confirm);
            Assert.Contains("id=\"delete-link-form\"", question, StringComparison.Ordinal);

            using (var forged = await session.PostFormAsync(confirm, "delete-link", [], withToken: false))
            {
                Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
            }
            using (var intruder = await ConsoleSession.SignedInAsync(Gateway, otherKey))
            using (var foreign = await intruder.PostFormAsync(confirm, "delete-link", [], tokenFrom: $"/console/links/{otherId}?delete=confirm"))
            {
                Assert.Contains(foreign.StatusCode, new[] { HttpStatusCode.NotFound, HttpStatusCode.BadRequest });
            }
            using (var billing = await ConsoleSession.SignedInAsync(Gateway, await ConsoleRolesTests.NewKeyAsync(api, "billing")))
            using (var refused = await billing.PostFormAsync(confirm, "delete-link", [], tokenFrom: "/console"))
            {
                // The form is not rendered for a role without links.manage: nothing to post to.
                Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            }
            using (var still = await api.GetAsync($"/api/links/{id}"))
            {
                Assert.Equal(HttpStatusCode.OK, still.StatusCode);
            }

            using (var deleted = await session.PostFormAsync(confirm, "delete-link", []))
            {
                Assert.Equal(HttpStatusCode.Found, deleted.StatusCode);
                Assert.EndsWith("/console?deleted=true", deleted.Headers.Location?.OriginalString, StringComparison.Ordinal);
            }
            using (var gone = await api.GetAsync($"/api/links/{id}"))
            {
                Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
            }
            using (var paid = Gateway.Client())
            using (var call = await paid.GetAsync($"/l/{id}"))
            {
                Assert.Equal(HttpStatusCode.NotFound, call.StatusCode);
            }
            var entry = await LastAuditAsync(api, "link.delete");
            Assert.Equal(id, entry.GetProperty("targetId").GetString());
            Assert.Equal(204, entry.GetProperty("status").GetInt32());
            Assert.Contains("Doomed API", entry.GetProperty("before").GetString(), StringComparison.Ordinal);
            using (var theirs = await other.GetAsync($"/api/links/{otherId}"))
            {
                Assert.Equal(HttpStatusCode.OK, theirs.StatusCode);
            }
            var (_, dashboard) = await session.GetAsync("/console?deleted=true");
            Assert.Contains("id=\"deleted-notice\"", dashboard, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_links_sold_passes_are_listed_and_one_is_revoked_after_a_confirm_step_by_the_owner_only()
    {
        var (key, api) = await fixture.NewOrganisationAsync("Console passes");
        var (otherKey, other) = await fixture.NewOrganisationAsync("Console passes intruder");
        using (api)
        using (other)
        {
            var (id, _) = await Gateway.CreateLinkAsync(new
            {
                upstream = "http://127.0.0.1:9/api", price = "0.01", payTo = ConsoleFixture.PayTo, name = "Pass seller", pass = new { price = "1.00", calls = 10 },
            }, api);
            var (otherId, _) = await fixture.CreateLinkAsync(other, "Intruder's");
            var link = (await Gateway.Services.GetRequiredService<ILinkStore>().FindAsync(id, default))!;
            var passes = Gateway.Services.GetRequiredService<IPassStore>();
            var pass = X402Serverless.Core.Passes.Pass.Issue(link, link.Pass!, X402Serverless.Core.Passes.PassHolders.Payer("payer_console"), "ref_console", "credits", DateTimeOffset.UtcNow);
            Assert.True(await passes.AddAsync(pass, default));

            using var session = await ConsoleSession.SignedInAsync(Gateway, key);
            var page = $"/console/links/{id}";
            var (_, html) = await session.GetAsync(page);
            Assert.Contains("payer:payer_console", html, StringComparison.Ordinal);
            Assert.DoesNotContain("id=\"revoke-pass-form\"", html, StringComparison.Ordinal);
            var confirm = $"{page}?revokePass={Uri.EscapeDataString(pass.Id)}";
            Assert.Contains("id=\"revoke-pass-form\"", (await session.GetAsync(confirm)).Html, StringComparison.Ordinal);

            using (var intruder = await ConsoleSession.SignedInAsync(Gateway, otherKey))
            using (var foreign = await intruder.PostFormAsync(confirm, "revoke-pass", new() { ["passId"] = pass.Id }, tokenFrom: $"/console/links/{otherId}"))
            {
                Assert.Contains(foreign.StatusCode, new[] { HttpStatusCode.NotFound, HttpStatusCode.BadRequest });
            }
            using (var forged = await session.PostFormAsync(confirm, "revoke-pass", new() { ["passId"] = pass.Id }, withToken: false))
            {
                Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
            }
            Assert.Null((await passes.GetAsync(id, pass.Id, default))!.RevokedAt);

            using (var revoked = await session.PostFormAsync(confirm, "revoke-pass", new() { ["passId"] = pass.Id }))
            {
                Assert.Equal(HttpStatusCode.Found, revoked.StatusCode);
            }
            Assert.NotNull((await passes.GetAsync(id, pass.Id, default))!.RevokedAt);
            var entry = await LastAuditAsync(api, "link.pass.revoke");
            Assert.Equal(pass.Id, entry.GetProperty("targetId").GetString());
            Assert.Contains("\"status\":\"revoked\"", entry.GetProperty("after").GetString(), StringComparison.Ordinal);
            var (_, after) = await session.GetAsync(page);
            Assert.Contains("<td class=\"status\">revoked</td>", after, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_inbox_links_settings_are_edited_on_its_page_with_the_apis_checks()
    {
        var (key, api) = await fixture.NewOrganisationAsync("Console inbox settings");
        using (api)
        {
            var (id, _) = await Gateway.CreateLinkAsync(new
            {
                name = "Write to me", price = "0.25", payTo = ConsoleFixture.PayTo, accepts = new[] { "credits" }, inbox = new { deliverTo = "owner@example.com" },
            }, api);
            using var session = await ConsoleSession.SignedInAsync(Gateway, key);
            var page = $"/console/links/{id}";
            var (_, html) = await session.GetAsync(page);
            Assert.Contains("id=\"inboxDeliverTo\"", html, StringComparison.Ordinal);
            Assert.DoesNotContain("id=\"upstream\"", html, StringComparison.Ordinal);
            var form = new Dictionary<string, string>
            {
                ["Input.Name"] = "Write to me", ["Input.Price"] = "0.25", ["Input.PayTo"] = ConsoleFixture.PayTo, ["Input.Networks"] = "eip155:84532",
                ["Input.AcceptCredits"] = "true", ["Input.InboxDeliverTo"] = "desk@example.com", ["Input.InboxMaxMessageBytes"] = "100",
                ["Input.InboxAutoReply"] = "Thanks, read within a day.", ["Input.InboxAllow"] = "Friend@example.org",
            };
            using (var bad = await session.PostFormAsync(page, "edit-link", form))
            {
                Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
                Assert.Contains("data-field=\"inbox.maxMessageBytes\" data-code=\"invalid_inbox_size\"", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
            form["Input.InboxMaxMessageBytes"] = "4096";
            using (var saved = await session.PostFormAsync(page, "edit-link", form))
            {
                Assert.Equal(HttpStatusCode.Found, saved.StatusCode);
            }
            var inbox = (await api.GetFromJsonAsync<JsonElement>($"/api/links/{id}")).GetProperty("inbox");
            Assert.Equal("desk@example.com", inbox.GetProperty("deliverTo").GetString());
            Assert.Equal(4096, inbox.GetProperty("maxMessageBytes").GetInt32());
            Assert.Equal("Thanks, read within a day.", inbox.GetProperty("autoReply").GetString());
            Assert.Equal(["friend@example.org"], inbox.GetProperty("allow").EnumerateArray().Select(a => a.GetString()));
        }
    }

    [Fact]
    public async Task Payers_are_created_edited_and_their_keys_issued_and_revoked_from_the_console()
    {
        var (_, api) = await fixture.NewOrganisationAsync("Console payers");
        var (otherKey, other) = await fixture.NewOrganisationAsync("Console payers elsewhere");
        using (api)
        using (other)
        {
            using var session = await ConsoleSession.SignedInAsync(Gateway, await ConsoleRolesTests.NewKeyAsync(api, "billing"));

            // Bad input: problem-style errors by field, with the API's codes; nothing is created.
            using (var bad = await session.PostFormAsync("/console/payers", "new-payer", new()
            {
                ["NewPayer.Name"] = "", ["NewPayer.MonthlyAllowance"] = "lots", ["NewPayer.MonthlyCap"] = "0",
            }))
            {
                Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
                var html = await bad.Content.ReadAsStringAsync();
                Assert.Contains("data-field=\"name\" data-code=\"invalid_name\"", html, StringComparison.Ordinal);
                Assert.Contains("data-field=\"monthlyAllowance\" data-code=\"invalid_amount\"", html, StringComparison.Ordinal);
                Assert.Contains("data-field=\"monthlyCap\" data-code=\"invalid_amount\"", html, StringComparison.Ordinal);
            }
            Assert.Empty((await api.GetFromJsonAsync<JsonElement>("/api/payers")).GetProperty("items").EnumerateArray());

            string payerKey;
            using (var created = await session.PostFormAsync("/console/payers", "new-payer", new()
            {
                ["NewPayer.Name"] = "Research agent", ["NewPayer.MonthlyAllowance"] = "5.00", ["NewPayer.MonthlyCap"] = "20", ["NewPayer.CreditLimit"] = "",
            }))
            {
                Assert.Equal(HttpStatusCode.OK, created.StatusCode);
                Assert.True(created.Headers.CacheControl?.NoStore);
                payerKey = KeyShown().Match(await created.Content.ReadAsStringAsync()).Groups[1].Value;
            }
            Assert.StartsWith("x402pk_", payerKey, StringComparison.Ordinal);
            var payer = (await api.GetFromJsonAsync<JsonElement>("/api/payers")).GetProperty("items")[0];
            var payerId = payer.GetProperty("id").GetString()!;
            Assert.Equal(("Research agent", "5.00", "20.00"), (payer.GetProperty("name").GetString(), payer.GetProperty("monthlyAllowance").GetString(),
                payer.GetProperty("monthlyCap").GetString()));
            Assert.Equal(HttpStatusCode.OK, await MeStatusAsync(payerKey));
            var creation = await LastAuditAsync(api, "payer.create");
            Assert.Equal(payerId, creation.GetProperty("targetId").GetString());
            Assert.Equal("billing", creation.GetProperty("actor").GetProperty("role").GetString());
            Assert.DoesNotContain(payerKey, creation.GetRawText(), StringComparison.Ordinal);

            var details = $"/console/payers/{payerId}";
            using (var saved = await session.PostFormAsync(details, "edit-payer", new()
            {
                ["Input.Name"] = "Research agent", ["Input.MonthlyAllowance"] = "5.00", ["Input.MonthlyCap"] = "", ["Input.CreditLimit"] = "2.50",
            }))
            {
                Assert.Equal(HttpStatusCode.Found, saved.StatusCode);
            }
            var edited = await api.GetFromJsonAsync<JsonElement>($"/api/payers/{payerId}");
            Assert.Equal(JsonValueKind.Null, edited.TryGetProperty("monthlyCap", out var cap) ? cap.ValueKind : JsonValueKind.Null);
            Assert.Equal("2.50", edited.GetProperty("creditLimit").GetString());
            var update = await LastAuditAsync(api, "payer.update");
            Assert.Contains("\"monthlyCap\":\"20.00\"", update.GetProperty("before").GetString(), StringComparison.Ordinal);
            Assert.Contains("\"creditLimit\":\"2.50\"", update.GetProperty("after").GetString(), StringComparison.Ordinal);
            using (var blank = await session.PostFormAsync(details, "edit-payer", new() { ["Input.Name"] = " ", ["Input.CreditLimit"] = "-1" }))
            {
                Assert.Equal(HttpStatusCode.BadRequest, blank.StatusCode);
                var html = await blank.Content.ReadAsStringAsync();
                Assert.Contains("data-code=\"invalid_name\"", html, StringComparison.Ordinal);
                Assert.Contains("data-field=\"creditLimit\" data-code=\"invalid_amount\"", html, StringComparison.Ordinal);
            }

            string secondKey;
            using (var issued = await session.PostFormAsync(details, "issue-payer-key", []))
            {
                Assert.Equal(HttpStatusCode.OK, issued.StatusCode);
                secondKey = KeyShown().Match(await issued.Content.ReadAsStringAsync()).Groups[1].Value;
            }
            Assert.Equal(HttpStatusCode.OK, await MeStatusAsync(secondKey));
            var keys = (await api.GetFromJsonAsync<JsonElement>($"/api/payers/{payerId}/keys")).GetProperty("items").EnumerateArray().ToList();
            Assert.Equal(2, keys.Count);
            var firstKeyId = keys.Single(k => payerKey.StartsWith(k.GetProperty("prefix").GetString()!, StringComparison.Ordinal)).GetProperty("id").GetString()!;
            using (var revoked = await session.PostFormAsync($"{details}?revoke={firstKeyId}", "revoke-payer-key", new() { ["keyId"] = firstKeyId }))
            {
                Assert.Equal(HttpStatusCode.Found, revoked.StatusCode);
            }
            Assert.Equal(HttpStatusCode.Unauthorized, await MeStatusAsync(payerKey));
            Assert.Equal(HttpStatusCode.OK, await MeStatusAsync(secondKey));
            Assert.Equal(firstKeyId, (await LastAuditAsync(api, "payer.key.delete")).GetProperty("targetId").GetString());

            // Another organisation: the payer is not found, its forms cannot reach it.
            using (var intruder = await ConsoleSession.SignedInAsync(Gateway, otherKey))
            {
                var (status, _) = await intruder.GetAsync(details);
                Assert.Equal(HttpStatusCode.NotFound, status);
                using var forged = await intruder.PostFormAsync(details, "edit-payer", new() { ["Input.Name"] = "Hijacked" }, tokenFrom: "/console/payers");
                Assert.Contains(forged.StatusCode, new[] { HttpStatusCode.NotFound, HttpStatusCode.BadRequest });
                using var issue = await intruder.PostFormAsync(details, "issue-payer-key", [], tokenFrom: "/console/payers");
                Assert.Contains(issue.StatusCode, new[] { HttpStatusCode.NotFound, HttpStatusCode.BadRequest });
            }
            Assert.Equal("Research agent", (await api.GetFromJsonAsync<JsonElement>($"/api/payers/{payerId}")).GetProperty("name").GetString());
            Assert.Single((await api.GetFromJsonAsync<JsonElement>($"/api/payers/{payerId}/keys")).GetProperty("items").EnumerateArray());

            // A developer reads no payers; a read-only key reads them but gets no forms.
            using (var developer = await ConsoleSession.SignedInAsync(Gateway, await ConsoleRolesTests.NewKeyAsync(api, "developer")))
            {
                Assert.Equal(HttpStatusCode.Forbidden, (await developer.GetAsync(details)).Status);
            }
            using (var reader = await ConsoleSession.SignedInAsync(Gateway, await ConsoleRolesTests.NewKeyAsync(api, "read-only")))
            {
                var (status, html) = await reader.GetAsync(details);
                Assert.Equal(HttpStatusCode.OK, status);
                Assert.DoesNotContain("id=\"edit-payer-form\"", html, StringComparison.Ordinal);
                using var forged = await reader.PostFormAsync(details, "issue-payer-key", [], tokenFrom: "/console/payers");
                Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
            }

            // The organisation's monthly budget, with the API's check.
            using (var badBudget = await session.PostFormAsync("/console/payers", "budget", new() { ["Budget.MonthlyBudget"] = "-3" }))
            {
                Assert.Equal(HttpStatusCode.BadRequest, badBudget.StatusCode);
                Assert.Contains("data-code=\"invalid_budget\"", await badBudget.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
            using (var budget = await session.PostFormAsync("/console/payers", "budget", new() { ["Budget.MonthlyBudget"] = "100" }))
            {
                Assert.Equal(HttpStatusCode.Found, budget.StatusCode);
            }
            Assert.Equal("100.00", (await api.GetFromJsonAsync<JsonElement>("/api/organisation/balances")).GetProperty("monthlyBudget").GetString());
        }
    }

    [Fact]
    public async Task Organisation_keys_are_created_with_a_role_shown_once_and_revoked_but_never_the_sessions_own_or_anothers()
    {
        var (adminKey, api) = await fixture.NewOrganisationAsync("Console keys");
        var (_, other) = await fixture.NewOrganisationAsync("Console keys elsewhere");
        using (api)
        using (other)
        {
            var foreignKeyId = (await other.GetFromJsonAsync<JsonElement>("/api/keys")).GetProperty("items")[0].GetProperty("id").GetString()!;
            var ownKeyId = (await api.GetFromJsonAsync<JsonElement>("/api/keys")).GetProperty("items")[0].GetProperty("id").GetString()!;
            using var session = await ConsoleSession.SignedInAsync(Gateway, adminKey);
            var (_, list) = await session.GetAsync("/console/keys");
            Assert.Contains($"<tr id=\"key-{ownKeyId}\">", list, StringComparison.Ordinal);
            Assert.Contains("this session's key", list, StringComparison.Ordinal);
            Assert.DoesNotContain(foreignKeyId, list, StringComparison.Ordinal);

            using (var bad = await session.PostFormAsync("/console/keys", "new-key", new() { ["Input.Role"] = "root" }))
            {
                Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
                Assert.Contains("data-code=\"invalid_role\"", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
            string billingKey;
            using (var created = await session.PostFormAsync("/console/keys", "new-key", new() { ["Input.Role"] = "billing" }))
            {
                Assert.Equal(HttpStatusCode.OK, created.StatusCode);
                Assert.True(created.Headers.CacheControl?.NoStore);
                billingKey = KeyShown().Match(await created.Content.ReadAsStringAsync()).Groups[1].Value;
            }
            Assert.StartsWith("x402sk_", billingKey, StringComparison.Ordinal);
            using (var billing = Gateway.Client(billingKey))
            {
                Assert.Equal(HttpStatusCode.OK, (await billing.GetAsync("/api/payers")).StatusCode);
                Assert.Equal(HttpStatusCode.Forbidden, (await billing.GetAsync("/api/keys")).StatusCode);
            }
            var creation = await LastAuditAsync(api, "key.create");
            Assert.Contains("\"role\":\"billing\"", creation.GetProperty("after").GetString(), StringComparison.Ordinal);
            Assert.DoesNotContain(billingKey, creation.GetRawText(), StringComparison.Ordinal);
            var billingId = creation.GetProperty("targetId").GetString()!;

            // Its own key: refused with the API's code, still working.
            using (var self = await session.PostFormAsync($"/console/keys?revoke={ownKeyId}", "revoke-key", new() { ["keyId"] = ownKeyId }))
            {
                Assert.Equal(HttpStatusCode.Conflict, self.StatusCode);
                Assert.Contains("data-code=\"key_in_use\"", await self.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
            // Another organisation's key: no form to post to, and a form for its own key cannot carry a foreign id.
            using (var foreign = await session.PostFormAsync($"/console/keys?revoke={foreignKeyId}", "revoke-key", new() { ["keyId"] = foreignKeyId }, tokenFrom: "/console/keys"))
            {
                Assert.Equal(HttpStatusCode.BadRequest, foreign.StatusCode);
            }
            using (var smuggled = await session.PostFormAsync($"/console/keys?revoke={billingId}", "revoke-key", new() { ["keyId"] = foreignKeyId }))
            {
                Assert.Equal(HttpStatusCode.NotFound, smuggled.StatusCode);
            }
            Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/api/keys")).StatusCode);

            using (var revoked = await session.PostFormAsync($"/console/keys?revoke={billingId}", "revoke-key", new() { ["keyId"] = billingId }))
            {
                Assert.Equal(HttpStatusCode.Found, revoked.StatusCode);
            }
            using (var billing = Gateway.Client(billingKey))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, (await billing.GetAsync("/api/payers")).StatusCode);
            }
            Assert.Equal(HttpStatusCode.OK, (await session.GetAsync("/console/keys")).Status);

            // Read-only: the list, no forms; a forged post is refused.
            using var reader = await ConsoleSession.SignedInAsync(Gateway, await ConsoleRolesTests.NewKeyAsync(api, "read-only"));
            var (readStatus, readHtml) = await reader.GetAsync("/console/keys");
            Assert.Equal(HttpStatusCode.OK, readStatus);
            Assert.DoesNotContain("id=\"new-key-form\"", readHtml, StringComparison.Ordinal);
            using (var forged = await reader.PostFormAsync("/console/keys", "new-key", new() { ["Input.Role"] = "admin" }))
            {
                Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
            }
            using var developer = await ConsoleSession.SignedInAsync(Gateway, await ConsoleRolesTests.NewKeyAsync(api, "developer"));
            Assert.Equal(HttpStatusCode.Forbidden, (await developer.GetAsync("/console/keys")).Status);
        }
    }

    [Fact]
    public async Task Csv_downloads_hold_only_the_organisations_rows_with_formulas_defused_and_match_the_api()
    {
        var (key, api) = await fixture.NewOrganisationAsync("Console CSV downloads");
        var (_, other) = await fixture.NewOrganisationAsync("Console CSV bystander");
        using (api)
        using (other)
        {
            var (linkId, _) = await fixture.CreateLinkAsync(api, "=HYPERLINK(\"http://evil\")");
            var (otherLinkId, _) = await fixture.CreateLinkAsync(other, "Theirs");
            var organisation = (await api.GetFromJsonAsync<JsonElement>("/api/organisation")).GetProperty("id").GetString()!;
            var otherOrganisation = (await other.GetFromJsonAsync<JsonElement>("/api/organisation")).GetProperty("id").GetString()!;
            using (var anonymous = Gateway.Client())
            {
                using var challenged = await anonymous.GetAsync($"/l/{linkId}");
                Assert.Equal(HttpStatusCode.PaymentRequired, challenged.StatusCode);
            }
            await Gateway.Services.GetRequiredService<X402Serverless.Handler.Usage.UsageRecorder>().FlushAsync(default);
            var payments = Gateway.Services.GetRequiredService<IPaymentStore>();
            var mine = await PayAsync(payments, organisation, linkId, "+SUM(A1:A9)");
            var theirs = await PayAsync(payments, otherOrganisation, otherLinkId, "theirs");
            using (var created = await api.PostAsJsonAsync("/api/payers", new { name = "@agent" }))
            {
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            }
            var payerId = (await api.GetFromJsonAsync<JsonElement>("/api/payers")).GetProperty("items")[0].GetProperty("id").GetString()!;
            var ledger = Gateway.Services.GetRequiredService<ILedger>();
            await ledger.PostAsync(LedgerEntry.Transfer("csv-fund:" + payerId, "topup", Accounts.CardClearing, Accounts.Credits(payerId), Usd.FromMicros(1_500_000), "=cmd|' /C calc'!A0"), [], default);

            using var session = await ConsoleSession.SignedInAsync(Gateway, await ConsoleRolesTests.NewKeyAsync(api, "read-only"));

            var usage = await DownloadAsync(session.Http, "/console/usage.csv?days=7", "usage.csv");
            Assert.Contains($",{linkId},\"'=HYPERLINK(\"\"http://evil\"\")\",1,0,0,0,", usage, StringComparison.Ordinal);
            Assert.DoesNotContain(otherLinkId, usage, StringComparison.Ordinal);
            Assert.Equal(usage, await DownloadAsync(api, "/api/usage.csv?days=7", "usage.csv"));

            var paymentsCsv = await DownloadAsync(session.Http, "/console/payments.csv", "payments.csv");
            var lines = paymentsCsv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
            Assert.StartsWith("created_at,id,link_id,status,", lines[0], StringComparison.Ordinal);
            var row = Assert.Single(lines[1..]);
            Assert.Contains($",{mine},{linkId},failed,", row, StringComparison.Ordinal);
            Assert.Contains(",12500,0.0125,", row, StringComparison.Ordinal);
            Assert.Contains(",'+SUM(A1:A9),", row, StringComparison.Ordinal);
            Assert.DoesNotContain(theirs, paymentsCsv, StringComparison.Ordinal);
            Assert.Equal(paymentsCsv, await DownloadAsync(api, "/api/payments.csv", "payments.csv"));
            Assert.Single(ReadLines(await DownloadAsync(api, $"/api/payments.csv?status=failed&linkId={linkId}", "payments.csv")));
            Assert.Empty(ReadLines(await DownloadAsync(api, "/api/payments.csv?status=settled", "payments.csv")));
            using (var badStatus = await session.Http.GetAsync("/console/payments.csv?status=bogus"))
            {
                Assert.Equal(HttpStatusCode.BadRequest, badStatus.StatusCode);
                Assert.Equal("invalid_status", (await badStatus.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
            }

            var postings = await DownloadAsync(session.Http, "/console/postings.csv", "postings.csv");
            Assert.StartsWith("account,account_kind,payer_id,sequence,", postings, StringComparison.Ordinal);
            var credit = Assert.Single(ReadLines(postings));
            Assert.StartsWith($"credits:{payerId},credits,{payerId},", credit, StringComparison.Ordinal);
            Assert.Contains(",csv-fund:" + payerId + ",topup,1.50,", credit, StringComparison.Ordinal);
            Assert.EndsWith(",'=cmd|' /C calc'!A0", credit, StringComparison.Ordinal);
            Assert.Equal(postings, await DownloadAsync(api, "/api/ledger/postings.csv", "postings.csv"));
            Assert.Empty(ReadLines(await DownloadAsync(other, "/api/ledger/postings.csv", "postings.csv")));

            // Postings are billing data: a developer's session gets none, like its key from the API.
            using var developer = await ConsoleSession.SignedInAsync(Gateway, await ConsoleRolesTests.NewKeyAsync(api, "developer"));
            Assert.Equal(HttpStatusCode.Forbidden, (await developer.Http.GetAsync("/console/postings.csv")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await developer.Http.GetAsync("/console/payments.csv")).StatusCode);
            using var anonymousSession = ConsoleSession.Anonymous(Gateway);
            Assert.Equal(HttpStatusCode.Redirect, (await anonymousSession.Http.GetAsync("/console/payments.csv")).StatusCode);
            _ = key;
        }
    }

    [Fact]
    public async Task The_payments_csv_pages_through_payments_sharing_one_instant_without_losing_or_repeating_any()
    {
        var payments = Gateway.Services.GetRequiredService<IPaymentStore>();
        var organisation = "org_csv_pages_" + Guid.NewGuid().ToString("N");
        var at = DateTimeOffset.UtcNow;
        var ids = new List<string>();
        // Seven payments at four instants: pages of three cut through every instant but the first.
        foreach (var offset in new[] { 0, 0, -1, -1, -2, -2, -3 })
        {
            ids.Add(await PayAsync(payments, organisation, "lnk_pages", "x", at.AddSeconds(offset)));
        }
        var networks = Gateway.Services.GetRequiredService<X402Serverless.Core.Networks.NetworkRegistry>();
        using var writer = new StringWriter();
        await X402Serverless.Handler.Management.PaymentsCsv.WriteAsync(writer, payments, networks, organisation, null, null, default, pageSize: 3);
        var written = ReadLines(writer.ToString()).Select(l => l.Split(',')[1]).ToList();
        Assert.Equal(ids.Order(), written.Order());
        Assert.Equal(written.Count, written.Distinct().Count());
    }

    private static IEnumerable<string> ReadLines(string csv) => csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Skip(1);

    private static async Task<string> DownloadAsync(HttpClient http, string path, string fileName)
    {
        using var response = await http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(fileName, response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        return await response.Content.ReadAsStringAsync();
    }

    private async Task<HttpStatusCode> MeStatusAsync(string payerKey)
    {
        using var http = Gateway.Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/me");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", payerKey);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task<string> PayAsync(IPaymentStore payments, string organisation, string link, string failure, DateTimeOffset? at = null)
    {
        var now = at ?? DateTimeOffset.UtcNow;
        var p = new PaymentRecord
        {
            Id = "pay_" + Guid.NewGuid().ToString("N"), LinkId = link, OrganisationId = organisation, Network = "eip155:84532",
            Asset = "0x036CbD53842c5426634e7929541eC2318f3dCF7e", Payer = "0x00000000000000000000000000000000000000a1", PayTo = ConsoleFixture.PayTo,
            Nonce = "0x" + Guid.NewGuid().ToString("N"), Amount = TokenAmount.Parse("12500"), X402Version = 2, Status = PaymentStatus.Reserved,
            ValidBefore = now.AddMinutes(5).ToUnixTimeSeconds(), CreatedAt = now, UpdatedAt = now,
        };
        Assert.True(await payments.TryReserveAsync(p, default));
        await payments.MarkFailedAsync(p.Id, failure, now, default);
        return p.Id;
    }

    [GeneratedRegex("<p class=\"mono\" id=\"new-key\">([^<]+)</p>")]
    private static partial Regex KeyShown();
}
