using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Handler.OutboundWebhooks;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.Webhooks.WebhooksFixture;

namespace X402Serverless.Tests.Webhooks;

/// <summary>Raising one event again, or many times at once, stores and delivers it once per endpoint (docs/webhooks.md).</summary>
public sealed class WebhookEventDedupTests(WebhooksFixture fixture) : IClassFixture<WebhooksFixture>
{
    private static string Name() => "d" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task Fifty_concurrent_raises_and_a_later_one_deliver_one_event_once_to_each_endpoint()
    {
        var org = await fixture.NewOrganisationAsync();
        var organisationId = (await org.GetFromJsonAsync<JsonElement>("/api/organisation")).GetProperty("id").GetString()!;
        var (a, b) = (Name(), Name());
        var (endpointA, _) = await fixture.NewEndpointAsync(org, a, "charge.captured");
        var (endpointB, _) = await fixture.NewEndpointAsync(org, b, "charge.captured");
        var events = fixture.Gateway.Services.GetRequiredService<WebhookEvents>();
        var subject = "hold:" + Guid.NewGuid().ToString("N");

        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(() =>
            events.RaiseOrThrowAsync(organisationId, "charge.captured", subject, () => new JsonObject { ["raise"] = i }, default))));
        var delivered = new List<JsonElement>();
        foreach (var endpoint in new[] { endpointA, endpointB })
        {
            var delivery = Assert.Single(await DeliveriesAsync(org, endpoint));
            delivered.Add(await WaitForStatusAsync(org, endpoint, delivery.GetProperty("id").GetString()!, "delivered"));
        }

        // After delivery, the same event raised again (a job re-run after a crash) adds nothing and resends nothing.
        await events.RaiseOrThrowAsync(organisationId, "charge.captured", subject, () => new JsonObject { ["raise"] = "late" }, default);
        await events.RaiseAsync(organisationId, "charge.captured", subject, new JsonObject { ["raise"] = "later" }, default);
        Assert.Single(await DeliveriesAsync(org, endpointA));
        Assert.Single(await DeliveriesAsync(org, endpointB));

        var received = new[] { Assert.Single(fixture.Receiver.To(a)), Assert.Single(fixture.Receiver.To(b)) };
        var eventId = Core.OutboundWebhooks.WebhookIds.EventFor(organisationId, "charge.captured", subject);
        Assert.All(received, r => Assert.Equal(eventId, r.EventId));
        // Every endpoint got the first stored body, byte for byte.
        Assert.Equal(received[0].Body, received[1].Body);
        Assert.All(delivered, d => Assert.Equal(1, d.GetProperty("attempts").GetInt32()));
        var raised = JsonDocument.Parse(received[0].Body).RootElement.GetProperty("data").GetProperty("object").GetProperty("raise");
        Assert.Equal(JsonValueKind.Number, raised.ValueKind);
    }

    [Fact]
    public async Task The_same_subject_under_another_type_or_organisation_is_another_event()
    {
        var org = await fixture.NewOrganisationAsync();
        var organisationId = (await org.GetFromJsonAsync<JsonElement>("/api/organisation")).GetProperty("id").GetString()!;
        var name = Name();
        var (endpoint, _) = await fixture.NewEndpointAsync(org, name, "payment.settled", "payment.failed");
        var events = fixture.Gateway.Services.GetRequiredService<WebhookEvents>();

        await events.RaiseOrThrowAsync(organisationId, "payment.settled", "pay_x", () => [], default);
        await events.RaiseOrThrowAsync(organisationId, "payment.failed", "pay_x", () => [], default);
        // Another organisation's event about the same subject reaches none of this one's endpoints.
        await events.RaiseOrThrowAsync("org_someone_else", "payment.settled", "pay_x", () => [], default);

        var items = await DeliveriesAsync(org, endpoint);
        Assert.Equal(["payment.failed", "payment.settled"], items.Select(d => d.GetProperty("eventType").GetString()).Order());
        Assert.Equal(2, items.Select(d => d.GetProperty("eventId").GetString()).Distinct().Count());
        await Poll.UntilAsync(() => Task.FromResult(fixture.Receiver.To(name).Count >= 2), TimeSpan.FromSeconds(30));
    }

    private static async Task<JsonElement[]> DeliveriesAsync(HttpClient org, string endpointId) =>
        (await org.GetFromJsonAsync<JsonElement>($"/api/webhooks/{endpointId}/deliveries")).GetProperty("items").EnumerateArray().ToArray();
}
