using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Stripe;
using X402Serverless.Core.Webhooks;
using X402Serverless.Tests.Credits;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Stripe;

/// <summary>Card top-ups end to end: Checkout Session created in Stripe's wire format, webhook verified, processed once.</summary>
public sealed class CardTopUpTests(CreditsFixture fixture) : IClassFixture<CreditsFixture>
{
    [Fact]
    public async Task A_payer_starts_a_checkout_in_stripes_documented_request_format()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await CreditsFixture.NewPayerAsync(org, new { name = "Card payer" });
        using var me = fixture.Gateway.Client(payer.Key);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/me/topups/card") { Content = JsonContent.Create(new { amount = "5.00" }) };
        request.Headers.Add("Idempotency-Key", "topup-1");

        using var response = await me.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.StartsWith("https://checkout.stripe.com/", body.GetProperty("url").GetString(), StringComparison.Ordinal);
        var sent = fixture.Stripe.Sessions.Single(s => s.Form.GetValueOrDefault("client_reference_id") == payer.Id);
        Assert.Equal("Bearer sk_test_gateway_secret_key", sent.Authorization);
        Assert.Equal($"{payer.Id}:topup-1", sent.IdempotencyKey);
        Assert.Equal("payment", sent.Form["mode"]);
        Assert.Equal("usd", sent.Form["line_items[0][price_data][currency]"]);
        Assert.Equal("500", sent.Form["line_items[0][price_data][unit_amount]"]);
        Assert.Equal("1", sent.Form["line_items[0][quantity]"]);
        Assert.Equal(payer.Id, sent.Form["metadata[payer_id]"]);
        Assert.Equal("https://app.example/topped-up", sent.Form["success_url"]);
        // Recorded by session id before the URL was answered: this, not the metadata above, is what the webhook credits.
        var recorded = await fixture.Gateway.Services.GetRequiredService<ICardTopUpStore>().GetAsync(body.GetProperty("sessionId").GetString()!, default);
        Assert.Equal((CardTopUp.Payer, payer.Id, 5_000_000L, "usd"), (recorded!.Kind, recorded.AccountId, recorded.Amount.Micros, recorded.Currency));

        using var tooPrecise = await me.PostAsJsonAsync("/api/me/topups/card", new { amount = "5.001" });
        Assert.Equal(HttpStatusCode.BadRequest, tooPrecise.StatusCode);
    }

    [Fact]
    public async Task A_signed_checkout_completed_event_credits_once_however_often_it_arrives()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await CreditsFixture.NewPayerAsync(org, new { name = "Webhook payer" });
        var session = await OpenPayerTopUpAsync(payer.Key, "5.00");

        using (var first = await DeliverAsync(Event("evt_a_" + session, session, payer.Id, 500)))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }
        await WaitForBalanceAsync(Accounts.Credits(payer.Id), 5_000_000);

        // Stripe redelivers the same event, and (rarely) sends a second event for the same session.
        using (var replay = await DeliverAsync(Event("evt_a_" + session, session, payer.Id, 500)))
        {
            Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
            Assert.True((await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicate").GetBoolean());
        }
        using (var duplicate = await DeliverAsync(Event("evt_b_" + session, session, payer.Id, 500)))
        {
            Assert.Equal(HttpStatusCode.OK, duplicate.StatusCode);
        }
        // The second event for the session is applied (as a no-op) before the balance is judged.
        await WaitProcessedAsync("evt_b_" + session);
        Assert.Equal(5_000_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
        Assert.Equal(0, (await fixture.Ledger.TotalAsync(default)).Micros);
    }

    [Fact]
    public async Task A_session_the_gateway_did_not_open_credits_nothing_whatever_its_metadata_says()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await CreditsFixture.NewPayerAsync(org, new { name = "Forged target" });
        var organisationId = (await org.GetFromJsonAsync<JsonElement>("/api/organisation")).GetProperty("id").GetString()!;
        // Made in Stripe's dashboard or by another integration on the same account, with the gateway's metadata keys.
        var forged = "cs_test_" + Guid.NewGuid().ToString("N");
        var forPayer = Event("evt_f1_" + forged, forged, payer.Id, 500);
        var forPool = Event("evt_f2_" + forged, forged, payer.Id, 500, metadata: new { organisation_id = organisationId });

        using (var a = await DeliverAsync(forPayer))
        using (var b = await DeliverAsync(forPool))
        {
            Assert.Equal(HttpStatusCode.OK, a.StatusCode);
            Assert.Equal(HttpStatusCode.OK, b.StatusCode);
        }
        Assert.Equal("not_recorded", await OutcomeAsync("evt_f1_" + forged));
        Assert.Equal("not_recorded", await OutcomeAsync("evt_f2_" + forged));
        Assert.Equal(0, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
        Assert.Equal(0, (await fixture.Ledger.BalanceAsync(Accounts.Pool(organisationId), default)).Micros);
    }

    [Fact]
    public async Task A_recorded_session_credits_the_recorded_payer_whoever_its_metadata_names()
    {
        using var org = await fixture.NewOrganisationAsync();
        var buyer = await CreditsFixture.NewPayerAsync(org, new { name = "Buyer" });
        var other = await CreditsFixture.NewPayerAsync(org, new { name = "Would-be beneficiary" });
        var organisationId = (await org.GetFromJsonAsync<JsonElement>("/api/organisation")).GetProperty("id").GetString()!;
        var session = await OpenPayerTopUpAsync(buyer.Key, "3.00");

        // Metadata edited in Stripe's dashboard to name another payer and an organisation: ignored.
        await DeliverAndWaitAsync(Event("evt_m_" + session, session, other.Id, 300, metadata: new { payer_id = other.Id, organisation_id = organisationId }));

        Assert.Equal(3_000_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(buyer.Id), default)).Micros);
        Assert.Equal(0, (await fixture.Ledger.BalanceAsync(Accounts.Credits(other.Id), default)).Micros);
        Assert.Equal(0, (await fixture.Ledger.BalanceAsync(Accounts.Pool(organisationId), default)).Micros);
    }

    [Fact]
    public async Task An_amount_or_currency_other_than_the_recorded_one_credits_nothing()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await CreditsFixture.NewPayerAsync(org, new { name = "Mismatch" });
        var session = await OpenPayerTopUpAsync(payer.Key, "5.00");

        Assert.Equal("topup_amount_mismatch", await DeliverAndWaitAsync(Event("evt_x1_" + session, session, payer.Id, 50_000)));
        Assert.Equal("topup_amount_mismatch", await DeliverAndWaitAsync(Event("evt_x2_" + session, session, payer.Id, 499)));
        Assert.Equal("topup_amount_mismatch", await DeliverAndWaitAsync(Event("evt_x3_" + session, session, payer.Id, 500, currency: "eur")));
        Assert.Equal(0, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
    }

    [Fact]
    public async Task A_delayed_payment_credits_on_async_payment_succeeded_once_not_on_the_unpaid_completion()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await CreditsFixture.NewPayerAsync(org, new { name = "Bank debit" });
        var session = await OpenPayerTopUpAsync(payer.Key, "7.00");

        Assert.Equal("topup_not_paid", await DeliverAndWaitAsync(Event("evt_u_" + session, session, payer.Id, 700, paymentStatus: "unpaid")));
        Assert.Equal(0, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);

        const string succeeded = "checkout.session.async_payment_succeeded";
        await DeliverAndWaitAsync(Event("evt_s_" + session, session, payer.Id, 700, type: succeeded));
        Assert.Equal(7_000_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
        Assert.Equal("duplicate", await DeliverAndWaitAsync(Event("evt_s2_" + session, session, payer.Id, 700, type: succeeded)));
        Assert.Equal(7_000_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
    }

    [Fact]
    public async Task The_same_event_delivered_fifty_times_at_once_credits_once()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await CreditsFixture.NewPayerAsync(org, new { name = "Concurrent" });
        var session = await OpenPayerTopUpAsync(payer.Key, "2.00");
        var same = Event("evt_c_" + session, session, payer.Id, 200);
        // And distinct events for the session (completed and async_payment_succeeded), processed concurrently too.
        var others = Enumerable.Range(0, 10).Select(i => Event($"evt_c{i}_" + session, session, payer.Id, 200,
            type: i % 2 == 0 ? "checkout.session.completed" : "checkout.session.async_payment_succeeded")).ToList();

        var responses = await Task.WhenAll(Enumerable.Repeat(same, 50).Concat(others).Select(p => Task.Run(() => DeliverAsync(p))));
        foreach (var response in responses)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }
        // The worker applies them; these apply the same events again, concurrently with it and with each other.
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => Processor.ProcessAsync(i < 10 ? "evt_c_" + session : $"evt_c{i - 10}_" + session, default))));
        Assert.All(outcomes, o => Assert.Contains(o, new[] { "credited", "duplicate" }));
        foreach (var id in new[] { "evt_c_" + session }.Concat(Enumerable.Range(0, 10).Select(i => $"evt_c{i}_" + session)))
        {
            await WaitProcessedAsync(id);
        }
        Assert.Equal(2_000_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
        Assert.Single(await fixture.Ledger.PostingsAsync(Accounts.Credits(payer.Id), 100, default));
        Assert.Equal(0, (await fixture.Ledger.TotalAsync(default)).Micros);
    }

    [Fact]
    public async Task Tampered_stale_and_unsigned_webhooks_are_refused_and_credit_nothing()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await CreditsFixture.NewPayerAsync(org, new { name = "Target" });
        var session = "cs_test_" + Guid.NewGuid().ToString("N");
        var payload = Event("evt_t_" + session, session, payer.Id, 100);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        var header = await WebhookSignatureTests.OfficialHeaderAsync(payload, CreditsFixture.StripeWebhookSecret, now);
        using (var tampered = await PostAsync(payload.Replace("\"amount_total\":100,", "\"amount_total\":100000,", StringComparison.Ordinal), header))
        {
            Assert.Equal(HttpStatusCode.BadRequest, tampered.StatusCode);
            Assert.Equal("signature_invalid", (await tampered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }
        var stale = await WebhookSignatureTests.OfficialHeaderAsync(payload, CreditsFixture.StripeWebhookSecret, now - 3600);
        using (var old = await PostAsync(payload, stale))
        {
            Assert.Equal("signature_stale", (await old.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }
        using (var unsigned = await PostAsync(payload, null))
        {
            Assert.Equal(HttpStatusCode.BadRequest, unsigned.StatusCode);
        }
        // Refused before storage: there is no event to apply, now or later.
        Assert.Null(await Inbox.PayloadAsync("evt_t_" + session, default));
        Assert.Equal(0, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
    }

    [Fact]
    public async Task An_organisation_funds_its_pool_by_card()
    {
        using var org = await fixture.NewOrganisationAsync();
        var me = await org.GetFromJsonAsync<JsonElement>("/api/organisation");
        var organisationId = me.GetProperty("id").GetString()!;
        using var opened = await org.PostAsJsonAsync("/api/organisation/topups/card", new { amount = "250.00" });
        Assert.Equal(HttpStatusCode.Created, opened.StatusCode);
        var session = (await opened.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("sessionId").GetString()!;
        var payload = JsonSerializer.Serialize(new
        {
            id = "evt_o_" + session, type = "checkout.session.completed",
            data = new { @object = new { id = session, @object = "checkout.session", payment_status = "paid", currency = "usd", amount_total = 25000, metadata = new { organisation_id = "org_someone_else" } } },
        });
        using var response = await DeliverAsync(payload);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await WaitForBalanceAsync(Accounts.Pool(organisationId), 250_000_000);
        Assert.Equal(0, (await fixture.Ledger.BalanceAsync(Accounts.Pool("org_someone_else"), default)).Micros);
    }

    private static string Event(string eventId, string session, string payerId, long cents, string type = "checkout.session.completed",
        string paymentStatus = "paid", string currency = "usd", object? metadata = null) => JsonSerializer.Serialize(new
    {
        id = eventId, @object = "event", type,
        data = new { @object = new { id = session, @object = "checkout.session", payment_status = paymentStatus, currency, amount_total = cents, client_reference_id = payerId, metadata = metadata ?? new { payer_id = payerId } } },
    });

    /// <summary>Opens a card top-up as the payer, through the API (so the gateway records it); its Checkout Session id.</summary>
    private async Task<string> OpenPayerTopUpAsync(string payerKey, string amount)
    {
        using var me = fixture.Gateway.Client(payerKey);
        using var response = await me.PostAsJsonAsync("/api/me/topups/card", new { amount });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("sessionId").GetString()!;
    }

    /// <summary>Delivers a signed event and waits until it is applied; the outcome recorded for it.</summary>
    private async Task<string> DeliverAndWaitAsync(string payload)
    {
        var id = JsonDocument.Parse(payload).RootElement.GetProperty("id").GetString()!;
        using (var response = await DeliverAsync(payload))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        return await OutcomeAsync(id);
    }

    private async Task<HttpResponseMessage> DeliverAsync(string payload) =>
        await PostAsync(payload, await WebhookSignatureTests.OfficialHeaderAsync(payload, CreditsFixture.StripeWebhookSecret, DateTimeOffset.UtcNow.ToUnixTimeSeconds()));

    private async Task<HttpResponseMessage> PostAsync(string payload, string? signature)
    {
        using var client = fixture.Gateway.Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/stripe") { Content = new StringContent(payload, Encoding.UTF8, "application/json") };
        if (signature is not null)
        {
            request.Headers.TryAddWithoutValidation("Stripe-Signature", signature);
        }
        return await client.SendAsync(request);
    }

    private IWebhookInbox Inbox => fixture.Gateway.Services.GetRequiredKeyedService<IWebhookInbox>(WebhookSources.Stripe);

    private InboxProcessor Processor => fixture.Gateway.Services.GetServices<InboxProcessor>().Single(p => p.Source == WebhookSources.Stripe);

    /// <summary>
    /// The outcome of an event that changes nothing when applied again (not recorded, not paid, a mismatch): waits
    /// until the worker has applied it, then applies it once more and reads what it says. A crediting event says
    /// "duplicate" the second time, so its tests read the balance instead.
    /// </summary>
    private async Task<string> OutcomeAsync(string eventId)
    {
        await WaitProcessedAsync(eventId);
        return await Processor.ProcessAsync(eventId, default);
    }

    /// <summary>Waits until the stored event has been applied (it leaves the inbox's pending list).</summary>
    private async Task WaitProcessedAsync(string eventId)
    {
        Assert.NotNull(await Inbox.PayloadAsync(eventId, default));
        await Poll.UntilAsync(async () => (await Inbox.PendingAsync(1000, default)).All(e => e.Id != eventId), TimeSpan.FromSeconds(30));
    }

    private async Task WaitForBalanceAsync(string account, long expected)
    {
        await Poll.UntilAsync(async () => (await fixture.Ledger.BalanceAsync(account, default)).Micros == expected, TimeSpan.FromSeconds(30));
        Assert.Equal(expected, (await fixture.Ledger.BalanceAsync(account, default)).Micros);
    }
}
