using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Passes;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Webhooks;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Passes;

/// <summary>
/// A pass bought by card from the paywall: the form opens a Stripe Checkout Session (the fake checks Stripe's wire
/// format) and redirects there, script off; Stripe's signed webhook (official stripe package) issues the pass, once,
/// bound to a payer account, only for the link and price the gateway recorded for that session.
/// </summary>
public sealed class CardPassTests(CardPassFixture fixture) : IClassFixture<CardPassFixture>
{
    [Fact]
    public async Task With_script_off_the_paywall_sells_a_pass_by_card_and_the_buyer_gets_its_key_once_and_exactly_its_calls()
    {
        var (org, organisationId) = await fixture.NewOrganisationAsync();
        var (linkId, url, path) = await fixture.NewPassLinkAsync(org, new { price = "5.00", calls = 2 });
        await using var browser = await WebDriver.StartAsync();
        await browser.DevToolsAsync("Emulation.setScriptExecutionDisabled", new JsonObject { ["value"] = true });

        await browser.NavigateAsync(url + "/report");
        Assert.Contains("2 calls", await browser.TextAsync("#card"), StringComparison.Ordinal);
        await browser.ClickAsync("#card button[type=submit]");
        // The 303 is followed to Stripe's checkout (here the fake's page): the page's form-action allows exactly that origin.
        await browser.WaitForUrlAsync(u => u.StartsWith(fixture.Stripe.Url + "/c/pay/cs_test_", StringComparison.Ordinal));
        var sent = fixture.SessionFor(linkId);
        Assert.Equal(sent.Id, await browser.TextAsync("#session"));
        Assert.Equal("Bearer sk_test_gateway_secret_key", sent.Authorization);
        Assert.Equal("payment", sent.Form["mode"]);
        Assert.Equal("usd", sent.Form["line_items[0][price_data][currency]"]);
        Assert.Equal("500", sent.Form["line_items[0][price_data][unit_amount]"]);
        Assert.Equal("1", sent.Form["line_items[0][quantity]"]);
        var returnUrl = $"{fixture.Gateway.BaseUrl}/pass/{linkId}/card/done?session_id={{CHECKOUT_SESSION_ID}}";
        Assert.Equal(returnUrl, sent.Form["success_url"]);

        // Back from Stripe before its webhook: the page waits (and reloads itself without script).
        var back = returnUrl.Replace("{CHECKOUT_SESSION_ID}", sent.Id, StringComparison.Ordinal);
        await browser.NavigateAsync(back);
        Assert.Equal("Waiting for the payment to be confirmed", await browser.TextAsync("#status"));
        Assert.Null(await browser.TryFindAsync("#payer-key"));

        using (var delivered = await fixture.DeliverAsync(CardPassFixture.CompletedEvent("evt_" + sent.Id, sent.Id, 500)))
        {
            Assert.Equal(HttpStatusCode.OK, delivered.StatusCode);
        }
        var key = await Poll.UntilAsync(async () => await browser.TryFindAsync("#payer-key") is { } shown ? await shown.TextAsync() : null, TimeSpan.FromSeconds(60));
        Assert.StartsWith("x402pk_", key, StringComparison.Ordinal);
        Assert.Equal("Your pass is ready", await browser.TextAsync("#status"));

        // Shown once: the browser's copy is gone after it was shown.
        await browser.NavigateAsync(back);
        Assert.NotNull(await browser.TryFindAsync("#key-gone"));
        Assert.DoesNotContain(key, await browser.PageSourceAsync(), StringComparison.Ordinal);

        // The key spends the pass: exactly two calls, then the payer (no credits) is asked to pay.
        using (var first = await CallAsync(url, key))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal("1", first.Headers.GetValues("X-Pass-Calls-Left").Single());
        }
        using (var second = await CallAsync(url, key))
        {
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        }
        using (var third = await CallAsync(url, key))
        {
            Assert.Equal(HttpStatusCode.PaymentRequired, third.StatusCode);
        }
        Assert.Equal(2, fixture.Upstream.Hits(path));

        // The account is the link's organisation's; the card money is the provider's, less the operator's 1%.
        var pass = Assert.Single(await fixture.Passes.ListForLinkAsync(linkId, 10, default));
        Assert.Equal(PassCheckout.PaidWith, pass.PaidWith);
        Assert.Equal("stripe:" + sent.Id, pass.PaymentRef);
        var payerId = pass.Holder["payer:".Length..];
        Assert.Equal(organisationId, (await fixture.Gateway.Services.GetRequiredService<IPayerStore>().GetAsync(payerId, default))!.OrganisationId);
        Assert.Equal(4_950_000, (await Ledger.BalanceAsync(Accounts.Earnings(organisationId), default)).Micros);
    }

    [Fact]
    public async Task An_event_delivered_twice_or_fifty_times_at_once_issues_one_pass_and_posts_once()
    {
        var (org, organisationId) = await fixture.NewOrganisationAsync();
        var (linkId, _, _) = await fixture.NewPassLinkAsync(org, new { price = "2.00", minutes = 60 });
        using var browser = CardPassFixture.Browser();
        using (var started = await fixture.PostCardFormAsync(browser, linkId))
        {
            Assert.Equal(HttpStatusCode.SeeOther, started.StatusCode);
        }
        var session = fixture.SessionFor(linkId).Id;

        // Stripe redelivering one event: stored once, whether the copies come one after another or together.
        var payload = CardPassFixture.CompletedEvent("evt_same_" + session, session, 200);
        var signature = await CardPassFixture.SignAsync(payload);
        var deliveries = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(async () =>
        {
            using var response = await fixture.DeliverAsync(payload, signature);
            return (response.StatusCode, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicate").GetBoolean());
        })));
        Assert.All(deliveries, d => Assert.Equal(HttpStatusCode.OK, d.StatusCode));
        Assert.Single(deliveries, d => !d.Item2);
        await fixture.WaitProcessedAsync("evt_same_" + session);

        // Fifty distinct events for the session, applied concurrently (as several queue workers would).
        var processor = fixture.Gateway.Services.GetServices<InboxProcessor>().Single(p => p.Source == WebhookSources.Stripe);
        var ids = Enumerable.Range(0, 50).Select(i => $"evt_more_{i}_{session}").ToList();
        foreach (var id in ids)
        {
            await fixture.Inbox.TryAddAsync(id, "checkout.session.completed", CardPassFixture.CompletedEvent(id, session, 200), DateTimeOffset.UtcNow, default);
        }
        var outcomes = await Task.WhenAll(ids.Select(id => Task.Run(() => processor.ProcessAsync(id, default))));
        Assert.All(outcomes, o => Assert.Contains(o, new[] { "pass_already_issued", "pass_issued" }));

        var pass = Assert.Single(await fixture.Passes.ListForLinkAsync(linkId, 10, default));
        Assert.Equal(PassCheckout.NewPayerIdFor(session), pass.Holder["payer:".Length..]);
        Assert.Single(await fixture.Gateway.Services.GetRequiredService<IPayerStore>().ListKeysAsync(PassCheckout.NewPayerIdFor(session), default));
        Assert.Equal(1_980_000, (await Ledger.BalanceAsync(Accounts.Earnings(organisationId), default)).Micros);
        Assert.Equal(0, (await Ledger.TotalAsync(default)).Micros);
    }

    [Fact]
    public async Task An_unpaid_session_issues_nothing_until_its_payment_succeeds()
    {
        var (org, _) = await fixture.NewOrganisationAsync();
        var (linkId, _, _) = await fixture.NewPassLinkAsync(org, new { price = "1.00", calls = 3 });
        using var browser = CardPassFixture.Browser();
        (await fixture.PostCardFormAsync(browser, linkId)).Dispose();
        var session = fixture.SessionFor(linkId).Id;

        using (await fixture.DeliverAsync(CardPassFixture.CompletedEvent("evt_unpaid_" + session, session, 100, paymentStatus: "unpaid")))
        {
        }
        await fixture.WaitProcessedAsync("evt_unpaid_" + session);
        Assert.Empty(await fixture.Passes.ListForLinkAsync(linkId, 10, default));
        using (var page = await browser.GetAsync($"{fixture.Gateway.BaseUrl}/pass/{linkId}/card/done?session_id={session}"))
        {
            Assert.Contains("Waiting for the payment", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (await fixture.DeliverAsync(CardPassFixture.CompletedEvent("evt_paid_" + session, session, 100, type: "checkout.session.async_payment_succeeded")))
        {
        }
        await fixture.WaitProcessedAsync("evt_paid_" + session);
        Assert.Single(await fixture.Passes.ListForLinkAsync(linkId, 10, default));
        using (var page = await browser.GetAsync($"{fixture.Gateway.BaseUrl}/pass/{linkId}/card/done?session_id={session}"))
        {
            Assert.Equal("no-store", page.Headers.CacheControl?.ToString());
            Assert.Matches("<pre id=\"payer-key\">x402pk_[A-Za-z0-9_-]+</pre>", await page.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task A_session_issues_only_what_the_gateway_recorded_for_it_whatever_the_event_says()
    {
        var (orgA, _) = await fixture.NewOrganisationAsync();
        var (orgB, organisationB) = await fixture.NewOrganisationAsync();
        var (linkA, _, _) = await fixture.NewPassLinkAsync(orgA, new { price = "3.00", calls = 1 });
        var (linkB, _, _) = await fixture.NewPassLinkAsync(orgB, new { price = "3.00", calls = 1 });
        using var browser = CardPassFixture.Browser();
        (await fixture.PostCardFormAsync(browser, linkA)).Dispose();
        var session = fixture.SessionFor(linkA).Id;

        // Paid less than the pass: nothing.
        using (await fixture.DeliverAsync(CardPassFixture.CompletedEvent("evt_cheap_" + session, session, 1)))
        {
        }
        await fixture.WaitProcessedAsync("evt_cheap_" + session);
        Assert.Empty(await fixture.Passes.ListForLinkAsync(linkA, 10, default));

        // Metadata naming another organisation's link: the pass is the recorded link's, none is made elsewhere.
        using (await fixture.DeliverAsync(CardPassFixture.CompletedEvent("evt_moved_" + session, session, 300,
            metadata: new { purpose = "pass", link_id = linkB, organisation_id = organisationB }, clientReference: linkB)))
        {
        }
        await fixture.WaitProcessedAsync("evt_moved_" + session);
        Assert.Single(await fixture.Passes.ListForLinkAsync(linkA, 10, default));
        Assert.Empty(await fixture.Passes.ListForLinkAsync(linkB, 10, default));

        // A paid session the gateway never opened for a pass (a top-up's, or anyone's) issues no pass on any link.
        var stranger = "cs_test_" + Guid.NewGuid().ToString("N");
        using (await fixture.DeliverAsync(CardPassFixture.CompletedEvent("evt_stranger_" + stranger, stranger, 300,
            metadata: new { purpose = "pass", link_id = linkB }, clientReference: linkB)))
        {
        }
        await fixture.WaitProcessedAsync("evt_stranger_" + stranger);
        Assert.Empty(await fixture.Passes.ListForLinkAsync(linkB, 10, default));
        Assert.Equal(0, (await Ledger.BalanceAsync(Accounts.Earnings(organisationB), default)).Micros);

        // The return page of a session is its own link's only.
        using var elsewhere = await browser.GetAsync($"{fixture.Gateway.BaseUrl}/pass/{linkB}/card/done?session_id={session}");
        Assert.Equal(HttpStatusCode.NotFound, elsewhere.StatusCode);
        using var garbage = await browser.GetAsync($"{fixture.Gateway.BaseUrl}/pass/{linkA}/card/done?session_id=cs_x%2F..%23");
        Assert.Equal(HttpStatusCode.NotFound, garbage.StatusCode);
    }

    [Fact]
    public async Task With_a_payer_key_the_pass_goes_on_that_account_and_no_key_is_made()
    {
        var (org, _) = await fixture.NewOrganisationAsync();
        var (linkId, url, _) = await fixture.NewPassLinkAsync(org, new { price = "1.00", calls = 1 }, accepts: ["x402"]);
        using var created = await org.PostAsJsonAsync("/api/payers", new { name = "Own account" });
        var json = await created.Content.ReadFromJsonAsync<JsonElement>();
        var payerId = json.GetProperty("payer").GetProperty("id").GetString()!;
        var payerKey = json.GetProperty("key").GetString()!;

        using var browser = CardPassFixture.Browser();
        using (var started = await fixture.PostCardFormAsync(browser, linkId, payerKey))
        {
            Assert.Equal(HttpStatusCode.SeeOther, started.StatusCode);
            Assert.False(started.Headers.Contains("Set-Cookie"));
        }
        var session = fixture.SessionFor(linkId).Id;
        using (await fixture.DeliverAsync(CardPassFixture.CompletedEvent("evt_own_" + session, session, 100)))
        {
        }
        await fixture.WaitProcessedAsync("evt_own_" + session);
        Assert.Equal("payer:" + payerId, Assert.Single(await fixture.Passes.ListForLinkAsync(linkId, 10, default)).Holder);
        using (var page = await browser.GetAsync($"{fixture.Gateway.BaseUrl}/pass/{linkId}/card/done?session_id={session}"))
        {
            var html = await page.Content.ReadAsStringAsync();
            Assert.Contains("on your payer account", html, StringComparison.Ordinal);
            Assert.DoesNotContain("x402pk_", html, StringComparison.Ordinal);
        }
        // On a link that takes only x402, the payer key spends the pass.
        using (var call = await CallAsync(url, payerKey))
        {
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        }
    }

    [Fact]
    public async Task The_card_form_is_refused_cross_site_with_a_bad_key_or_where_no_pass_can_be_bought_by_card()
    {
        var (org, _) = await fixture.NewOrganisationAsync();
        var (linkId, url, _) = await fixture.NewPassLinkAsync(org, new { price = "1.00", calls = 1 });
        var (cheapId, cheapUrl, _) = await fixture.NewPassLinkAsync(org, new { price = "0.25", calls = 1 });
        var (plainId, _) = await fixture.Gateway.CreateLinkAsync(new
        {
            upstream = fixture.Upstream.BaseUrl + "/ok/plain", price = "0.01", payTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", accepts = new[] { "credits" },
        }, org);
        using var browser = CardPassFixture.Browser();

        using (var crossSite = await fixture.PostCardFormAsync(browser, linkId, site: "cross-site"))
        {
            await ProblemAssert.IsAsync(crossSite, 403, "cross_site_form");
        }
        using (var notAKey = await fixture.PostCardFormAsync(browser, linkId, "x402sk_a_management_key"))
        {
            await ProblemAssert.IsAsync(notAKey, 400, "invalid_payer_key");
        }
        using (var unknownKey = await fixture.PostCardFormAsync(browser, linkId, "x402pk_nobody_has_this_key_at_all"))
        {
            await ProblemAssert.IsAsync(unknownKey, 401, "invalid_payer_key");
        }
        using (var json = await browser.PostAsJsonAsync($"{fixture.Gateway.BaseUrl}/pass/{linkId}/card", new { payerKey = "" }))
        {
            await ProblemAssert.IsAsync(json, 400, "invalid_paywall_form");
        }
        using (var noPass = await fixture.PostCardFormAsync(browser, plainId))
        {
            Assert.Equal(HttpStatusCode.NotFound, noPass.StatusCode);
        }
        using (var tooCheap = await fixture.PostCardFormAsync(browser, cheapId))
        {
            await ProblemAssert.IsAsync(tooCheap, 400, "card_price_unsupported");
        }
        Assert.DoesNotContain(fixture.Stripe.Sessions, s => s.Form.GetValueOrDefault("client_reference_id") is { } r && (r == linkId || r == cheapId || r == plainId));

        // The page offers the card form where it can be used, and its policy lets the form go to Stripe's checkout only then.
        var (page, policy) = await PaywallAsync(url);
        Assert.Contains($"action=\"/pass/{linkId}/card\"", page, StringComparison.Ordinal);
        Assert.Contains($"form-action 'self' {fixture.Stripe.Url};", policy, StringComparison.Ordinal);
        var (cheapPage, cheapPolicy) = await PaywallAsync(cheapUrl);
        Assert.DoesNotContain("id=\"card\"", cheapPage, StringComparison.Ordinal);
        Assert.Contains("form-action 'self';", cheapPolicy, StringComparison.Ordinal);
    }

    private ILedger Ledger => fixture.Gateway.Services.GetRequiredService<ILedger>();

    private static async Task<(string Html, string Policy)> PaywallAsync(string url)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd("text/html");
        using var response = await http.SendAsync(request);
        return (await response.Content.ReadAsStringAsync(), response.Headers.GetValues("Content-Security-Policy").Single());
    }

    private static async Task<HttpResponseMessage> CallAsync(string url, string payerKey)
    {
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", payerKey);
        return await client.SendAsync(request);
    }
}
