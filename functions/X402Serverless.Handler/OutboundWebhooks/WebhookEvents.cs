using System.Text.Json;
using System.Text.Json.Nodes;
using X402Serverless.Core.OutboundWebhooks;
using X402Serverless.Core.Ports;

namespace X402Serverless.Handler.OutboundWebhooks;

/// <summary>
/// Raises an event: one delivery per subscribed endpoint, stored before this returns (so before the work that raised it
/// is acknowledged), then the worker is woken. The body is fixed here, once: every attempt and redelivery sends the same
/// bytes under the same event id.
/// </summary>
internal sealed partial class WebhookEvents(
    WebhookEndpointCache endpoints,
    IWebhookEndpointStore store,
    WebhookDeliverySignal signal,
    TimeProvider time,
    ILogger<WebhookEvents> logger)
{
    /// <summary>Raises <paramref name="eventType"/> for the organisation's subscribed endpoints; never throws (an event is not worth failing the change it reports).</summary>
    public Task RaiseAsync(string organisationId, string eventType, JsonObject data, CancellationToken cancellationToken) =>
        RaiseAsync(organisationId, eventType, () => data, cancellationToken);

    /// <summary>As above, with the event's data built only when an endpoint subscribes: a paid call of an organisation
    /// without endpoints builds no JSON.</summary>
    public async Task RaiseAsync(string organisationId, string eventType, Func<JsonObject> data, CancellationToken cancellationToken)
    {
        try
        {
            var subscribed = await endpoints.SubscribedAsync(organisationId, eventType, cancellationToken);
            if (subscribed.Count == 0)
            {
                return;
            }
            await StoreAsync(organisationId, eventType, data(), subscribed, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.RaiseFailed(logger, eventType, organisationId, e);
        }
    }

    /// <summary>The "send test event" action: to this endpoint alone, whatever it subscribes to.</summary>
    public async Task<WebhookDelivery> SendTestAsync(WebhookEndpoint endpoint, CancellationToken cancellationToken) =>
        (await StoreAsync(endpoint.OrganisationId, WebhookEventTypes.Test,
            new JsonObject { ["message"] = "A test event sent from the management API or console." }, [endpoint], cancellationToken))[0];

    private async Task<IReadOnlyList<WebhookDelivery>> StoreAsync(string organisationId, string eventType, JsonObject data,
        IReadOnlyList<WebhookEndpoint> to, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var eventId = WebhookIds.Event();
        var body = new JsonObject
        {
            ["id"] = eventId,
            ["object"] = "event",
            ["type"] = eventType,
            ["created"] = now.ToUnixTimeSeconds(),
            ["organisation"] = organisationId,
            ["data"] = new JsonObject { ["object"] = data.DeepClone() },
        }.ToJsonString(JsonSerializerOptions.Web);
        var deliveries = to.Select(endpoint => new WebhookDelivery
        {
            Id = WebhookIds.Delivery(now),
            EndpointId = endpoint.Id,
            OrganisationId = organisationId,
            EventId = eventId,
            EventType = eventType,
            Payload = body,
            Status = DeliveryStatuses.Pending,
            NextAttemptAt = now,
            CreatedAt = now,
            UpdatedAt = now,
        }).ToList();
        await store.AddDeliveriesAsync(deliveries, cancellationToken);
        signal.Notify();
        return deliveries;
    }

    private static partial class Log
    {
        [LoggerMessage(140, LogLevel.Error, "Webhook event {EventType} for organisation {OrganisationId} could not be stored.")]
        public static partial void RaiseFailed(ILogger logger, string eventType, string organisationId, Exception exception);
    }
}

/// <summary>Wakes the delivery worker when an event is stored, so it is sent at once, not at the next poll.</summary>
internal sealed class WebhookDeliverySignal : Settlement.SettlementSignal;
