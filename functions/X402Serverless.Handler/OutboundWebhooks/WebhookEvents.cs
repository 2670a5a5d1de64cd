using System.Text.Json;
using System.Text.Json.Nodes;
using X402Serverless.Core.OutboundWebhooks;
using X402Serverless.Core.Ports;

namespace X402Serverless.Handler.OutboundWebhooks;

/// <summary>
/// Raises an event: the event and one delivery per subscribed endpoint, each stored only if absent, then the worker is
/// woken. The event's id is derived from what it reports (its subject), so raising it again (concurrently, or a job
/// re-run after a crash) stores nothing new: every attempt, endpoint and redelivery sends the first raise's bytes.
/// </summary>
internal sealed partial class WebhookEvents(
    WebhookEndpointCache endpoints,
    IWebhookEndpointStore store,
    WebhookDeliverySignal signal,
    TimeProvider time,
    ILogger<WebhookEvents> logger)
{
    /// <summary>Raises <paramref name="eventType"/> about <paramref name="subject"/> for the organisation's subscribed endpoints;
    /// never throws (an event is not worth failing the change it reports).</summary>
    public Task RaiseAsync(string organisationId, string eventType, string subject, JsonObject data, CancellationToken cancellationToken) =>
        RaiseAsync(organisationId, eventType, subject, () => data, cancellationToken);

    /// <summary>As above, with the event's data built only when an endpoint subscribes: a paid call of an organisation
    /// without endpoints builds no JSON and makes no store round trip.</summary>
    public async Task RaiseAsync(string organisationId, string eventType, string subject, Func<JsonObject> data, CancellationToken cancellationToken)
    {
        try
        {
            await RaiseOrThrowAsync(organisationId, eventType, subject, data, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.RaiseFailed(logger, eventType, organisationId, e);
        }
    }

    /// <summary>As above, but a store failure throws: for a caller that can run again (a settlement job), so it
    /// records its outcome only once the event is stored.</summary>
    public async Task RaiseOrThrowAsync(string organisationId, string eventType, string subject, Func<JsonObject> data, CancellationToken cancellationToken)
    {
        var subscribed = await endpoints.SubscribedAsync(organisationId, eventType, cancellationToken);
        if (subscribed.Count > 0)
        {
            await StoreAsync(WebhookIds.EventFor(organisationId, eventType, subject), organisationId, eventType, data(), subscribed, cancellationToken);
        }
    }

    /// <summary>The "send test event" action: to this endpoint alone, whatever it subscribes to; a new event each time.</summary>
    public async Task<WebhookDelivery> SendTestAsync(WebhookEndpoint endpoint, CancellationToken cancellationToken) =>
        (await StoreAsync(WebhookIds.Event(), endpoint.OrganisationId, WebhookEventTypes.Test,
            new JsonObject { ["message"] = "A test event sent from the management API or console." }, [endpoint], cancellationToken))[0];

    private async Task<IReadOnlyList<WebhookDelivery>> StoreAsync(string eventId, string organisationId, string eventType, JsonObject data,
        IReadOnlyList<WebhookEndpoint> to, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var body = new JsonObject
        {
            ["id"] = eventId,
            ["object"] = "event",
            ["type"] = eventType,
            ["created"] = now.ToUnixTimeSeconds(),
            ["organisation"] = organisationId,
            ["data"] = new JsonObject { ["object"] = data.DeepClone() },
        }.ToJsonString(JsonSerializerOptions.Web);
        var stored = await store.AddEventAsync(new WebhookEvent(eventId, organisationId, eventType, body, now), cancellationToken);
        var deliveries = to.Select(endpoint => new WebhookDelivery
        {
            Id = WebhookIds.Delivery(stored, endpoint.Id),
            EndpointId = endpoint.Id,
            OrganisationId = organisationId,
            EventId = stored.Id,
            EventType = stored.Type,
            Payload = stored.Payload,
            Status = DeliveryStatuses.Pending,
            NextAttemptAt = now,
            CreatedAt = stored.CreatedAt,
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
