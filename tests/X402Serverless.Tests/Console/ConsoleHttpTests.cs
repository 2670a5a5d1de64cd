using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Kyc;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;
using X402Serverless.Core.Money;

namespace X402Serverless.Tests.ProviderConsole;

/// <summary>The console's security and figures over plain HTTP: redirects, antiforgery, cookie flags, headers, isolation, revocation.</summary>
public sealed class ConsoleHttpTests(ConsoleFixture fixture) : IClassFixture<ConsoleFixture>
{
    private GatewayHost Gateway => fixture.Gateway;

    [Theory]
    [InlineData("/console")]
    [InlineData("/console/links/new")]
    [InlineData("/console/links/lnk_anything")]
    [InlineData("/console/payers")]
    public async Task Unauthenticated_console_pages_redirect_to_the_login(string path)
    {
        using var session = ConsoleSession.Anonymous(Gateway);
        using var response = await session.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal("/console/login", response.Headers.Location!.AbsolutePath);
    }

    [Fact]
    public async Task Signing_in_sets_an_httponly_strict_console_scoped_cookie_that_does_not_carry_the_key()
    {
        var (key, _) = await fixture.NewOrganisationAsync("Cookie Co");
        var (session, response) = await ConsoleSession.SignInAsync(Gateway, key);
        using (session)
        using (response)
        {
            Assert.Equal(HttpStatusCode.Found, response.StatusCode);
            Assert.Equal("/console", response.Headers.Location!.AbsolutePath);
            var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("x402_console=", StringComparison.Ordinal));
            var attributes = cookie.Split(';', StringSplitOptions.TrimEntries).Skip(1).Select(a => a.ToLowerInvariant()).ToList();
            Assert.Contains("path=/console", attributes);
            Assert.Contains("samesite=strict", attributes);
            Assert.Contains("httponly", attributes);
            Assert.DoesNotContain("secure", attributes); // plain http here; https requests and an https public origin get Secure
            // A session cookie: closing the browser ends it; the ticket inside expires after 8 hours without use.
            Assert.DoesNotContain(attributes, a => a.StartsWith("expires=", StringComparison.Ordinal) || a.StartsWith("max-age=", StringComparison.Ordinal));
            Assert.DoesNotContain(key, cookie, StringComparison.Ordinal);
            Assert.DoesNotContain(key["x402sk_".Length..][..12], cookie, StringComparison.Ordinal);

            var (status, html) = await session.GetAsync("/console");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Contains("Cookie Co", html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_wrong_key_is_refused_with_a_message_and_is_neither_echoed_nor_logged()
    {
        const string wrong = "x402sk_definitely_not_a_key_9f8e7d6c5b4a";
        var (session, response) = await ConsoleSession.SignInAsync(Gateway, wrong);
        using (session)
        using (response)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var html = await response.Content.ReadAsStringAsync();
            Assert.Contains("not valid", html, StringComparison.Ordinal);
            Assert.DoesNotContain(wrong, html, StringComparison.Ordinal);
            Assert.False(response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("x402_console=", StringComparison.Ordinal)));
            Assert.DoesNotContain(Gateway.Logs.Entries, e => e.Message.Contains(wrong, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Console_responses_are_not_stored_and_carry_a_strict_content_security_policy()
    {
        var (key, _) = await fixture.NewOrganisationAsync("Headers Ltd");
        using var session = await ConsoleSession.SignedInAsync(Gateway, key);
        foreach (var path in new[] { "/console/login", "/console", "/console/links/new", "/console/links/lnk_missing" })
        {
            using var response = await session.Http.GetAsync(path);
            Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
            var csp = response.Headers.GetValues("Content-Security-Policy").Single();
            Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
            Assert.Contains("form-action 'self'", csp, StringComparison.Ordinal);
            Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe", csp, StringComparison.Ordinal);
            var html = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        }
        using var css = await session.Http.GetAsync("/console/console.css");
        Assert.Equal(HttpStatusCode.OK, css.StatusCode);
        Assert.Equal("text/css", css.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Listing_edits_need_the_antiforgery_token_and_the_owners_session()
    {
        var (key, api) = await fixture.NewOrganisationAsync("Listing Owner");
        var (otherKey, otherApi) = await fixture.NewOrganisationAsync("Listing Intruder");
        using (api)
        using (otherApi)
        {
            var (id, _) = await fixture.CreateLinkAsync(api, "Quiet API");
            var (otherId, _) = await fixture.CreateLinkAsync(otherApi, "Intruder API");
            var listing = new Dictionary<string, string>
            {
                ["Input.Name"] = "Quiet API", ["Input.Price"] = "0.01", ["Input.Listed"] = "true", ["Input.Category"] = "Forged",
                // The rest of the form as the page renders it (a browser posts every field; an emptied required one is an error).
                ["Input.Upstream"] = "http://127.0.0.1:9/api", ["Input.PayTo"] = ConsoleFixture.PayTo, ["Input.Networks"] = "eip155:84532", ["Input.AcceptX402"] = "true",
            };
            using var session = await ConsoleSession.SignedInAsync(Gateway, key);
            using (var forged = await session.PostFormAsync($"/console/links/{id}", "edit-link", listing, withToken: false))
            {
                Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
            }
            using var intruder = await ConsoleSession.SignedInAsync(Gateway, otherKey);
            using (var foreign = await intruder.PostFormAsync($"/console/links/{id}", "edit-link", listing, tokenFrom: $"/console/links/{otherId}"))
            {
                Assert.Contains(foreign.StatusCode, new[] { HttpStatusCode.NotFound, HttpStatusCode.BadRequest });
            }
            var view = await api.GetFromJsonAsync<JsonElement>($"/api/links/{id}");
            Assert.False(view.GetProperty("listed").GetBoolean());
            Assert.False(view.TryGetProperty("category", out var category) && category.ValueKind != JsonValueKind.Null);

            // A schema over the API's size bound is refused by the same rule, named by its field.
            listing["Input.InputSchema"] = "{\"description\":\"" + new string('x', 9000) + "\"}";
            using (var huge = await session.PostFormAsync($"/console/links/{id}", "edit-link", listing))
            {
                Assert.Equal(HttpStatusCode.BadRequest, huge.StatusCode);
                Assert.Contains("data-field=\"inputSchema\" data-code=\"schema_too_large\"", await huge.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
            listing.Remove("Input.InputSchema");
            using (var saved = await session.PostFormAsync($"/console/links/{id}", "edit-link", listing))
            {
                Assert.Equal(HttpStatusCode.Found, saved.StatusCode);
            }
            view = await api.GetFromJsonAsync<JsonElement>($"/api/links/{id}");
            Assert.True(view.GetProperty("listed").GetBoolean());
            Assert.Equal("Forged", view.GetProperty("category").GetString());
        }
    }

    [Fact]
    public async Task Posts_without_an_antiforgery_token_are_refused()
    {
        var (key, api) = await fixture.NewOrganisationAsync("Forgery Inc");
        using (api)
        {
            using var anonymous = ConsoleSession.Anonymous(Gateway);
            using (var login = await anonymous.PostFormAsync("/console/login", "login", new() { ["Input.Key"] = key }, withToken: false))
            {
                Assert.Equal(HttpStatusCode.BadRequest, login.StatusCode);
                Assert.False(login.Headers.Contains("Set-Cookie") && login.Headers.GetValues("Set-Cookie").Any(c => c.StartsWith("x402_console=", StringComparison.Ordinal)));
            }

            using var session = await ConsoleSession.SignedInAsync(Gateway, key);
            using (var create = await session.PostFormAsync("/console/links/new", "new-link", new()
            {
                ["Input.Upstream"] = "http://127.0.0.1:9/x", ["Input.Price"] = "0.01", ["Input.PayTo"] = ConsoleFixture.PayTo, ["Input.AcceptX402"] = "true",
            }, withToken: false))
            {
                Assert.Equal(HttpStatusCode.BadRequest, create.StatusCode);
            }
            var links = await api.GetFromJsonAsync<JsonElement>("/api/links");
            Assert.Empty(links.GetProperty("items").EnumerateArray());

            using (var logout = await session.PostFormAsync("/console/logout", null, [], withToken: false))
            {
                Assert.Equal(HttpStatusCode.BadRequest, logout.StatusCode);
            }
            Assert.Equal(HttpStatusCode.OK, (await session.GetAsync("/console")).Status); // still signed in

            // With its token, the same sign-out works and the session is over.
            using (var logout = await session.PostFormAsync("/console/logout", null, [], tokenFrom: "/console"))
            {
                Assert.Equal(HttpStatusCode.Found, logout.StatusCode);
                Assert.Equal("/console/login", logout.Headers.Location!.OriginalString);
            }
            Assert.Equal(HttpStatusCode.Found, (await session.GetAsync("/console")).Status);
        }
    }

    [Fact]
    public async Task One_organisations_session_can_neither_list_nor_open_anothers_links()
    {
        var (aliceKey, alice) = await fixture.NewOrganisationAsync("Alice Console");
        var (bobKey, bob) = await fixture.NewOrganisationAsync("Bob Console");
        using (alice)
        using (bob)
        {
            var (aliceLink, _) = await fixture.CreateLinkAsync(alice, "Alice's forecast");
            var (bobLink, _) = await fixture.CreateLinkAsync(bob, "Bob's quotes");

            using var bobSession = await ConsoleSession.SignedInAsync(Gateway, bobKey);
            var (status, html) = await bobSession.GetAsync($"/console/links/{aliceLink}");
            Assert.Equal(HttpStatusCode.NotFound, status);
            Assert.Contains("Link not found", html, StringComparison.Ordinal);
            Assert.DoesNotContain("Alice", html, StringComparison.Ordinal);

            var (_, dashboard) = await bobSession.GetAsync("/console");
            Assert.Contains(bobLink, dashboard, StringComparison.Ordinal);
            Assert.DoesNotContain(aliceLink, dashboard, StringComparison.Ordinal);

            // Nor change it: the not-found page renders no edit form, so a post to it is refused and the price stays.
            using (var edit = await bobSession.PostFormAsync($"/console/links/{aliceLink}", "edit-link", new() { ["Input.Price"] = "9.99" }, tokenFrom: $"/console/links/{bobLink}"))
            {
                Assert.Contains(edit.StatusCode, new[] { HttpStatusCode.NotFound, HttpStatusCode.BadRequest });
            }
            Assert.Equal("10000", await fixture.AskedAmountAsync(aliceLink));

            using var aliceSession = await ConsoleSession.SignedInAsync(Gateway, aliceKey);
            Assert.Equal(HttpStatusCode.OK, (await aliceSession.GetAsync($"/console/links/{aliceLink}")).Status);
        }
    }

    [Fact]
    public async Task Revoking_the_key_ends_its_console_session_at_the_next_request()
    {
        var (firstKey, api) = await fixture.NewOrganisationAsync("Revoke Co");
        using (api)
        {
            using var created = await api.PostAsync("/api/keys", null);
            var second = await created.Content.ReadFromJsonAsync<JsonElement>();
            using var session = await ConsoleSession.SignedInAsync(Gateway, second.GetProperty("key").GetString()!);
            Assert.Equal(HttpStatusCode.OK, (await session.GetAsync("/console")).Status);

            using var revoked = await api.DeleteAsync($"/api/keys/{second.GetProperty("id").GetString()}");
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);

            using var next = await session.Http.GetAsync("/console");
            Assert.Equal(HttpStatusCode.Found, next.StatusCode);
            Assert.Equal("/console/login", next.Headers.Location!.AbsolutePath);
            Assert.DoesNotContain(session.Cookies.GetCookies(new Uri(Gateway.BaseUrl + "/console")), c => c.Name == "x402_console");

            using var stillValid = await ConsoleSession.SignedInAsync(Gateway, firstKey);
            Assert.Equal(HttpStatusCode.OK, (await stillValid.GetAsync("/console")).Status);
        }
    }

    [Fact]
    public async Task The_payers_page_shows_the_organisations_members_with_balances_and_kyc_and_nobody_elses()
    {
        var (key, api) = await fixture.NewOrganisationAsync("Sponsor Ltd");
        using (api)
        {
            using var created = await api.PostAsJsonAsync("/api/payers", new { name = "Research agent", monthlyAllowance = "5.00", monthlyCap = "20.00" });
            var payerId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("payer").GetProperty("id").GetString()!;
            var organisation = (await api.GetFromJsonAsync<JsonElement>("/api/organisation")).GetProperty("id").GetString()!;
            var ledger = Gateway.Services.GetRequiredService<ILedger>();
            await ledger.PostAsync(LedgerEntry.Transfer("console-fund:" + payerId, "topup", Accounts.CardClearing, Accounts.Credits(payerId), Usd.FromMicros(1_234_500)), [], default);
            await ledger.PostAsync(LedgerEntry.Transfer("console-pool:" + payerId, "pool-topup", Accounts.CardClearing, Accounts.Pool(organisation), Usd.FromMicros(40_000_000)), [], default);
            await Gateway.Services.GetRequiredService<IKycStore>().SaveIfNewerAsync(new KycRecord
            {
                SubjectId = payerId, Status = KycStatuses.Verified, Level = KycLevels.Full, Reference = "inq_console", DecidedAt = DateTimeOffset.UtcNow,
            }, default);

            using var session = await ConsoleSession.SignedInAsync(Gateway, key);
            var (status, html) = await session.GetAsync("/console/payers");
            Assert.Equal(HttpStatusCode.OK, status);
            var row = Regex.Match(html, $"<tr id=\"payer-{payerId}\">(.*?)</tr>", RegexOptions.Singleline).Groups[1].Value;
            Assert.Contains("Research agent", row, StringComparison.Ordinal);
            Assert.Contains(">1.2345<", row, StringComparison.Ordinal);
            Assert.Contains("0.00 of 5.00", row, StringComparison.Ordinal);
            Assert.Contains(">20.00<", row, StringComparison.Ordinal);
            Assert.Contains("verified (full)", row, StringComparison.Ordinal);
            Assert.Contains("<dd id=\"org-pool\">40.00</dd>", html, StringComparison.Ordinal);

            var (otherKey, otherApi) = await fixture.NewOrganisationAsync("Bystander Ltd");
            otherApi.Dispose();
            using var other = await ConsoleSession.SignedInAsync(Gateway, otherKey);
            var (_, otherHtml) = await other.GetAsync("/console/payers");
            Assert.DoesNotContain(payerId, otherHtml, StringComparison.Ordinal);
            Assert.Contains("id=\"no-payers\"", otherHtml, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Recent_payments_link_transactions_to_the_explorer_and_top_ups_to_the_payers_page()
    {
        var (key, api) = await fixture.NewOrganisationAsync("Revenue Ltd");
        using (api)
        {
            var (busy, _) = await fixture.CreateLinkAsync(api, "Busy API", price: "0.0125");
            var (quiet, _) = await fixture.CreateLinkAsync(api, "Quiet API", price: "0.50");
            var organisation = (await api.GetFromJsonAsync<JsonElement>("/api/organisation")).GetProperty("id").GetString()!;
            var payments = Gateway.Services.GetRequiredService<IPaymentStore>();
            var now = DateTimeOffset.UtcNow;

            async Task PayAsync(string link, string amount, PaymentStatus status)
            {
                var p = new PaymentRecord
                {
                    Id = "pay_" + Guid.NewGuid().ToString("N"), LinkId = link, OrganisationId = organisation, Network = "eip155:84532",
                    Asset = "0x036CbD53842c5426634e7929541eC2318f3dCF7e", Payer = "0x00000000000000000000000000000000000000a1", PayTo = ConsoleFixture.PayTo,
                    Nonce = "0x" + Guid.NewGuid().ToString("N"), Amount = TokenAmount.Parse(amount), X402Version = 2, Status = PaymentStatus.Reserved,
                    ValidBefore = now.AddMinutes(5).ToUnixTimeSeconds(), CreatedAt = now, UpdatedAt = now,
                };
                Assert.True(await payments.TryReserveAsync(p, default));
                switch (status)
                {
                    case PaymentStatus.Settled:
                        await payments.AdvanceAsync(p.Id, PaymentStatus.Settling, now, default);
                        await payments.MarkSettledAsync(p.Id, "0x" + new string('b', 64), now, default);
                        break;
                    case PaymentStatus.Settling:
                        await payments.AdvanceAsync(p.Id, PaymentStatus.Settling, now, default);
                        break;
                    case PaymentStatus.Failed:
                        await payments.MarkFailedAsync(p.Id, "insufficient_funds", now, default);
                        break;
                }
            }

            // Busy: three settled at $0.0125, one being settled, one failed. Quiet: one failed only; and a top-up.
            // (Settling, not Pending: the gateway's own worker would pick a Pending job up and fail it.)
            for (var i = 0; i < 3; i++)
            {
                await PayAsync(busy, "12500", PaymentStatus.Settled);
            }
            await PayAsync(busy, "12500", PaymentStatus.Settling);
            await PayAsync(busy, "12500", PaymentStatus.Failed);
            await PayAsync(quiet, "500000", PaymentStatus.Failed);
            await PayAsync(X402Serverless.Core.Credits.UsdcTopUps.LinkIdFor("payer_x"), "1000000", PaymentStatus.Failed);

            using var session = await ConsoleSession.SignedInAsync(Gateway, key);
            var (_, html) = await session.GetAsync("/console");
            Assert.Equal(7, Regex.Count(html, "data-payment-id="));
            Assert.Contains(">0.0125</td>", html, StringComparison.Ordinal);
            // Base Sepolia's explorer is built in; a settled payment's transaction links to it.
            Assert.Contains($"href=\"https://sepolia.basescan.org/tx/0x{new string('b', 64)}\"", html, StringComparison.Ordinal);
            // A top-up pays for credits, not a link: no link to a "Link not found" page.
            Assert.Contains("<a href=\"/console/payers\" class=\"topup\">Credit top-up</a>", html, StringComparison.Ordinal);
            Assert.DoesNotContain("/console/links/topup:", html, StringComparison.Ordinal);

            var (_, details) = await session.GetAsync($"/console/links/{busy}");
            Assert.Equal(5, Regex.Count(details, "data-payment-id="));
        }
    }
}
