using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Ports;
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

        using var tooPrecise = await me.PostAsJsonAsync("/api/me/topups/card", new { amount = "5.001" });
        Assert.Equal(HttpStatusCode.BadRequest, tooPrecise.StatusCode);
    }

    [Fact]
    public async Task A_signed_checkout_completed_event_credits_once_however_often_it_arrives()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await CreditsFixture.NewPayerAsync(org, new { name = "Webhook payer" });
        var session = "cs_test_" + Guid.NewGuid().ToString("N");

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
        var session = "cs_test_" + Guid.NewGuid().ToString("N");
        var payload = JsonSerializer.Serialize(new
        {
            id = "evt_o_" + session, type = "checkout.session.completed",
            data = new { @object = new { id = session, @object = "checkout.session", payment_status = "paid", currency = "usd", amount_total = 25000, metadata = new { organisation_id = organisationId } } },
        });
        using var response = await DeliverAsync(payload);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await WaitForBalanceAsync(Accounts.Pool(organisationId), 250_000_000);
    }

    private static string Event(string eventId, string session, string payerId, long cents) => JsonSerializer.Serialize(new
    {
        id = eventId, @object = "event", type = "checkout.session.completed",
        data = new { @object = new { id = session, @object = "checkout.session", payment_status = "paid", currency = "usd", amount_total = cents, client_reference_id = payerId, metadata = new { payer_id = payerId } } },
    });

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

    /// <summary>Waits until the stored event has been applied (it leaves the inbox's pending list).</summary>
    private async Task WaitProcessedAsync(string eventId)
    {
        Assert.NotNull(await Inbox.PayloadAsync(eventId, default));
        await Poll.UntilAsync(async () => (await Inbox.PendingAsync(1000, default)).All(e => e.Id != eventId), TimeSpan.FromSeconds(30));
    }

    private async Task WaitForBalanceAsync(string account, long expected)
    {
        for (var i = 0; i < 100 && (await fixture.Ledger.BalanceAsync(account, default)).Micros != expected; i++)
        {
            await Task.Delay(50);
        }
        Assert.Equal(expected, (await fixture.Ledger.BalanceAsync(account, default)).Micros);
    }
}
