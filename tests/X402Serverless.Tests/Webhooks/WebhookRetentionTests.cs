using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.OutboundWebhooks;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Settlement;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Webhooks;

/// <summary>The maintenance pass removes webhook deliveries and events past OutboundWebhooks:RetentionDays (docs/webhooks.md#retention).</summary>
public sealed class WebhookRetentionTests
{
    [Fact]
    public async Task The_maintenance_pass_removes_what_ended_before_the_retention_and_keeps_the_rest()
    {
        // No worker: the pass runs here once, so its once-a-minute limit does not depend on when a worker ran it.
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["X402:Settlement:RunWorker"] = "false",
            ["X402:OutboundWebhooks:RunWorker"] = "false",
            ["X402:OutboundWebhooks:RetentionDays"] = "10",
        });
        var store = gateway.Services.GetRequiredService<IWebhookEndpointStore>();
        var now = DateTimeOffset.UtcNow;
        var org = "org_" + Guid.NewGuid().ToString("N")[..10];
        var endpoint = new WebhookEndpoint
        {
            Id = WebhookIds.Endpoint(), OrganisationId = org, Url = "https://hooks.example.com/x402", Events = [WebhookEventTypes.PaymentSettled],
            Secrets = [], CreatedAt = now.AddDays(-30), UpdatedAt = now.AddDays(-30),
        };
        await store.CreateAsync(endpoint, default);
        async Task<WebhookDelivery> RaiseAsync(string subject, int daysAgo, string status)
        {
            var e = await store.AddEventAsync(new WebhookEvent(WebhookIds.EventFor(org, WebhookEventTypes.PaymentSettled, subject), org,
                WebhookEventTypes.PaymentSettled, "{}", now.AddDays(-daysAgo)), default);
            var delivery = new WebhookDelivery
            {
                Id = WebhookIds.Delivery(e, endpoint.Id), EndpointId = endpoint.Id, OrganisationId = org, EventId = e.Id, EventType = e.Type,
                Payload = e.Payload, Status = status, NextAttemptAt = e.CreatedAt.AddMinutes(1), CreatedAt = e.CreatedAt, UpdatedAt = e.CreatedAt,
            };
            await store.AddDeliveriesAsync([delivery], default);
            return delivery;
        }
        var delivered = await RaiseAsync("delivered", 11, DeliveryStatuses.Delivered);
        var failed = await RaiseAsync("failed", 20, DeliveryStatuses.Failed);
        var recent = await RaiseAsync("recent", 9, DeliveryStatuses.Delivered);
        var retrying = await RaiseAsync("retrying", 20, DeliveryStatuses.Pending);

        Assert.Empty(await gateway.Services.GetRequiredService<MaintenancePass>().ReconcileAsync(default));

        Assert.Equal(new[] { recent.Id, retrying.Id }.Order(), (await store.ListDeliveriesAsync(endpoint.Id, 10, default)).Select(d => d.Id).Order());
        Assert.Null(await store.GetDeliveryAsync(endpoint.Id, delivered.Id, default));
        Assert.Null(await store.GetDeliveryAsync(endpoint.Id, failed.Id, default));
        Assert.Contains(gateway.Logs.Entries, e => e.Message.Contains("Webhook retention removed 2 deliveries and 2 events", StringComparison.Ordinal));
    }
}
