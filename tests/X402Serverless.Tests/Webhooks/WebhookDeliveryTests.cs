using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Ledger;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.Webhooks.WebhooksFixture;

namespace X402Serverless.Tests.Webhooks;

/// <summary>Signed outbound webhooks end to end: a real receiver on loopback, verified by the official stripe package.</summary>
public sealed class WebhookDeliveryTests(WebhooksFixture fixture) : IClassFixture<WebhooksFixture>
{
    private static string Name() => "r" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task A_test_event_is_delivered_once_with_a_signature_the_stripe_package_verifies()
    {
        var org = await fixture.NewOrganisationAsync();
        var name = Name();
        var (id, secret) = await fixture.NewEndpointAsync(org, name);
        var queued = await SendTestAsync(org, id);
        var deliveryId = queued.GetProperty("id").GetString()!;

        var delivered = await WaitForStatusAsync(org, id, deliveryId, "delivered");
        var received = Assert.Single(fixture.Receiver.To(name));
        var eventId = delivered.GetProperty("eventId").GetString()!;
        Assert.Equal(eventId, received.EventId);
        Assert.Equal(deliveryId, received.Headers["X402-Delivery-Id"]);
        Assert.Equal("webhook.test", received.Headers["X402-Event-Type"]);
        Assert.Equal([eventId], await StripeVerifiesAsync(received.Body, received.Signature, 300, secret));
        Assert.Equal([null], await StripeVerifiesAsync(received.Body, received.Signature, 300, "whsec_someone_else"));
        Assert.Equal([null], await StripeVerifiesAsync(received.Body.Replace("webhook.test", "payment.settled", StringComparison.Ordinal), received.Signature, 300, secret));

        var attempt = Assert.Single(delivered.GetProperty("log").EnumerateArray());
        Assert.Equal(200, attempt.GetProperty("statusCode").GetInt32());
        Assert.Equal("thanks", attempt.GetProperty("response").GetString());
        Assert.Equal(1, delivered.GetProperty("attempts").GetInt32());
        using var body = JsonDocument.Parse(received.Body);
        Assert.Equal(eventId, body.RootElement.GetProperty("id").GetString());
        Assert.Equal(delivered.GetProperty("payload").GetRawText(), body.RootElement.GetRawText());
    }

    [Fact]
    public async Task A_paid_call_raises_charge_captured_for_a_subscribed_endpoint_only()
    {
        var org = await fixture.NewOrganisationAsync();
        var (subscribed, ignoring) = (Name(), Name());
        var (id, secret) = await fixture.NewEndpointAsync(org, subscribed, "charge.captured");
        await fixture.NewEndpointAsync(org, ignoring, "payment.settled");
        using var link = await org.PostAsJsonAsync("/api/links", new Dictionary<string, object?>
        {
            ["name"] = "Echo", ["price"] = "0.25", ["payTo"] = PayTo, ["accepts"] = new[] { "credits" },
            ["upstream"] = fixture.Receiver.Url("upstream" + subscribed), ["methods"] = new[] { "POST" },
        });
        var linkJson = await link.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(link.IsSuccessStatusCode, linkJson.ToString());
        using var payerResponse = await org.PostAsJsonAsync("/api/payers", new { name = "Caller" });
        var payer = await payerResponse.Content.ReadFromJsonAsync<JsonElement>();
        await fixture.FundAsync(Accounts.Credits(payer.GetProperty("payer").GetProperty("id").GetString()!), 1_000_000);

        using var client = new HttpClient();
        using var call = new HttpRequestMessage(HttpMethod.Post, linkJson.GetProperty("url").GetString()) { Content = JsonContent.Create(new { q = 1 }) };
        call.Headers.Authorization = new("Bearer", payer.GetProperty("key").GetString());
        using var paid = await client.SendAsync(call);
        Assert.Equal(HttpStatusCode.OK, paid.StatusCode);

        await Poll.UntilAsync(() => Task.FromResult(fixture.Receiver.To(subscribed).Count > 0), TimeSpan.FromSeconds(30));
        var received = Assert.Single(fixture.Receiver.To(subscribed));
        Assert.Equal("charge.captured", received.Headers["X402-Event-Type"]);
        Assert.Equal([received.EventId], await StripeVerifiesAsync(received.Body, received.Signature, 300, secret));
        var data = JsonDocument.Parse(received.Body).RootElement.GetProperty("data").GetProperty("object");
        Assert.Equal(linkJson.GetProperty("id").GetString(), data.GetProperty("linkId").GetString());
        Assert.Equal("250000", data.GetProperty("amountMicros").GetString());
        var deliveries = await org.GetFromJsonAsync<JsonElement>($"/api/webhooks/{id}/deliveries");
        Assert.Single(deliveries.GetProperty("items").EnumerateArray());
        Assert.Empty(fixture.Receiver.To(ignoring));
    }

    [Fact]
    public async Task Credits_crossing_the_low_threshold_raise_credits_low_once()
    {
        var org = await fixture.NewOrganisationAsync();
        var name = Name();
        var (id, _) = await fixture.NewEndpointAsync(org, name, "credits.low");
        using var link = await org.PostAsJsonAsync("/api/links", new Dictionary<string, object?>
        {
            ["name"] = "Echo", ["price"] = "0.25", ["payTo"] = PayTo, ["accepts"] = new[] { "credits" },
            ["upstream"] = fixture.Receiver.Url("upstream" + name), ["methods"] = new[] { "POST" },
        });
        var url = (await link.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString()!;
        using var payerResponse = await org.PostAsJsonAsync("/api/payers", new { name = "Caller" });
        var payer = await payerResponse.Content.ReadFromJsonAsync<JsonElement>();
        var payerId = payer.GetProperty("payer").GetProperty("id").GetString()!;
        await fixture.FundAsync(Accounts.Credits(payerId), 1_200_000);

        // 1.20 → 0.95 crosses the default 1.00 threshold; 0.95 → 0.70 does not cross it again.
        using var client = new HttpClient();
        for (var i = 0; i < 2; i++)
        {
            using var call = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(new { i }) };
            call.Headers.Authorization = new("Bearer", payer.GetProperty("key").GetString());
            using var paid = await client.SendAsync(call);
            Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        }
        // Both calls were answered, so any event they raised is stored: the log holds exactly one.
        var deliveries = (await org.GetFromJsonAsync<JsonElement>($"/api/webhooks/{id}/deliveries")).GetProperty("items");
        var delivery = Assert.Single(deliveries.EnumerateArray());
        await WaitForStatusAsync(org, id, delivery.GetProperty("id").GetString()!, "delivered");
        var received = Assert.Single(fixture.Receiver.To(name));
        Assert.Equal("credits.low", received.Headers["X402-Event-Type"]);
        var data = JsonDocument.Parse(received.Body).RootElement.GetProperty("data").GetProperty("object");
        Assert.Equal(payerId, data.GetProperty("payerId").GetString());
        Assert.Equal("0.95", data.GetProperty("balanceUsd").GetString());
    }

    [Fact]
    public async Task A_probe_finding_a_listed_link_down_raises_link_unhealthy()
    {
        var org = await fixture.NewOrganisationAsync();
        var name = Name();
        var (id, _) = await fixture.NewEndpointAsync(org, name, "link.unhealthy");
        fixture.Receiver.Script("upstream" + name, _ => 503);
        using var link = await org.PostAsJsonAsync("/api/links", new Dictionary<string, object?>
        {
            ["name"] = "Flaky API", ["price"] = "0.25", ["payTo"] = PayTo, ["accepts"] = new[] { "credits" },
            ["upstream"] = fixture.Receiver.Url("upstream" + name), ["listed"] = true, ["healthProbe"] = true,
        });
        var linkJson = await link.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(link.IsSuccessStatusCode, linkJson.ToString());
        var prober = fixture.Gateway.Services.GetRequiredService<X402Serverless.Handler.Health.LinkHealthProber>();
        await prober.RunAsync(default);
        await prober.RunAsync(default);

        await Poll.UntilAsync(() => Task.FromResult(fixture.Receiver.To(name).Count > 0), TimeSpan.FromSeconds(30));
        var received = Assert.Single(fixture.Receiver.To(name));
        Assert.Equal("link.unhealthy", received.Headers["X402-Event-Type"]);
        var data = JsonDocument.Parse(received.Body).RootElement.GetProperty("data").GetProperty("object");
        Assert.Equal(linkJson.GetProperty("id").GetString(), data.GetProperty("linkId").GetString());
        Assert.Equal(503, data.GetProperty("status").GetInt32());
        Assert.Single((await org.GetFromJsonAsync<JsonElement>($"/api/webhooks/{id}/deliveries")).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task A_receiver_that_fails_twice_then_succeeds_gets_the_event_with_every_attempt_logged()
    {
        var org = await fixture.NewOrganisationAsync();
        var name = Name();
        fixture.Receiver.Script(name, n => n <= 2 ? 503 : 200);
        var (id, _) = await fixture.NewEndpointAsync(org, name);
        var deliveryId = (await SendTestAsync(org, id)).GetProperty("id").GetString()!;

        var delivered = await WaitForStatusAsync(org, id, deliveryId, "delivered");
        Assert.Equal([503, 503, 200], delivered.GetProperty("log").EnumerateArray().Select(a => a.GetProperty("statusCode").GetInt32()));
        Assert.Equal("nope 1", delivered.GetProperty("log")[0].GetProperty("response").GetString());
        var received = fixture.Receiver.To(name);
        Assert.Equal(3, received.Count);
        Assert.Single(received.Select(r => r.EventId).Distinct());
    }

    [Fact]
    public async Task A_receiver_that_always_fails_ends_failed_after_the_last_attempt_and_can_be_redelivered()
    {
        var org = await fixture.NewOrganisationAsync();
        var name = Name();
        var healthy = false;
        fixture.Receiver.Script(name, _ => healthy ? 200 : 500);
        var (id, secret) = await fixture.NewEndpointAsync(org, name);
        var deliveryId = (await SendTestAsync(org, id)).GetProperty("id").GetString()!;

        var failed = await WaitForStatusAsync(org, id, deliveryId, "failed");
        Assert.Equal(MaxAttempts, failed.GetProperty("attempts").GetInt32());
        Assert.All(failed.GetProperty("log").EnumerateArray(), a => Assert.Equal(500, a.GetProperty("statusCode").GetInt32()));
        Assert.Equal(MaxAttempts, failed.GetProperty("log").GetArrayLength());
        Assert.Equal(MaxAttempts, fixture.Receiver.To(name).Count);

        healthy = true;
        using var redeliver = await org.PostAsync($"/api/webhooks/{id}/deliveries/{deliveryId}/redeliver", null);
        Assert.Equal(HttpStatusCode.Accepted, redeliver.StatusCode);
        var delivered = await WaitForStatusAsync(org, id, deliveryId, "delivered");
        Assert.Equal(MaxAttempts + 1, delivered.GetProperty("log").GetArrayLength());
        var last = fixture.Receiver.To(name)[^1];
        Assert.Equal(failed.GetProperty("eventId").GetString(), last.EventId);
        Assert.Equal([last.EventId], await StripeVerifiesAsync(last.Body, last.Signature, 300, secret));

        // A delivered event may be sent again too (a receiver that lost it); the id stays, so the receiver can drop repeats.
        using var again = await org.PostAsync($"/api/webhooks/{id}/deliveries/{deliveryId}/redeliver", null);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        await WaitForDeliveryAsync(org, id, deliveryId, d => d.GetProperty("status").GetString() == "delivered" && d.GetProperty("log").GetArrayLength() == MaxAttempts + 2);
        Assert.Equal(last.EventId, fixture.Receiver.To(name)[^1].EventId);
    }

    [Fact]
    public async Task After_a_rotation_each_delivery_carries_two_signatures_and_both_secrets_verify()
    {
        var org = await fixture.NewOrganisationAsync();
        var name = Name();
        var (id, oldSecret) = await fixture.NewEndpointAsync(org, name);
        using var rotate = await org.PostAsync($"/api/webhooks/{id}/secrets", null);
        Assert.Equal(HttpStatusCode.Created, rotate.StatusCode);
        var rotated = await rotate.Content.ReadFromJsonAsync<JsonElement>();
        var newSecret = rotated.GetProperty("secret").GetString()!;
        Assert.StartsWith("whsec_", newSecret, StringComparison.Ordinal);
        Assert.NotEqual(oldSecret, newSecret);
        var secrets = rotated.GetProperty("endpoint").GetProperty("secrets").EnumerateArray().ToList();
        Assert.Equal(2, secrets.Count);
        Assert.Equal(JsonValueKind.String, secrets[0].GetProperty("expiresAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, secrets[1].GetProperty("expiresAt").ValueKind);

        var deliveryId = (await SendTestAsync(org, id)).GetProperty("id").GetString()!;
        await WaitForStatusAsync(org, id, deliveryId, "delivered");
        var received = Assert.Single(fixture.Receiver.To(name));
        Assert.Equal(2, received.Signature.Split(',').Count(p => p.StartsWith("v1=", StringComparison.Ordinal)));
        Assert.Equal([received.EventId, received.EventId, null], await StripeVerifiesAsync(received.Body, received.Signature, 300, oldSecret, newSecret, "whsec_never"));

        // Neither secret is ever shown again.
        var shown = await org.GetStringAsync($"/api/webhooks/{id}");
        Assert.DoesNotContain(oldSecret, shown, StringComparison.Ordinal);
        Assert.DoesNotContain(newSecret, shown, StringComparison.Ordinal);
        Assert.DoesNotContain("whsec_", await org.GetStringAsync("/api/webhooks"), StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.Gateway.Logs.Entries, e => e.Message.Contains(oldSecret, StringComparison.Ordinal) || e.Message.Contains(newSecret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_stale_timestamp_is_refused_by_a_receiver_using_the_default_tolerance()
    {
        var body = """{"id":"evt_old","object":"event","type":"webhook.test"}""";
        var secret = Core.OutboundWebhooks.WebhookSigner.NewSecret();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.Equal(["evt_old"], await StripeVerifiesAsync(body, Core.OutboundWebhooks.WebhookSigner.Header(body, now, [secret]), 300, secret));
        Assert.Equal([null], await StripeVerifiesAsync(body, Core.OutboundWebhooks.WebhookSigner.Header(body, now - 600, [secret]), 300, secret));
    }
}
