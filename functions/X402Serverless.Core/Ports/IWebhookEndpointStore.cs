using X402Serverless.Core.OutboundWebhooks;

namespace X402Serverless.Core.Ports;

/// <summary>An organisation's outbound webhook endpoints and their deliveries; a delivery changes only by conditional write.</summary>
public interface IWebhookEndpointStore
{
    Task CreateAsync(WebhookEndpoint endpoint, CancellationToken cancellationToken);

    /// <summary>The endpoint when it belongs to <paramref name="organisationId"/>; null otherwise (another organisation's is "not found").</summary>
    Task<WebhookEndpoint?> GetAsync(string organisationId, string id, CancellationToken cancellationToken);

    Task<IReadOnlyList<WebhookEndpoint>> ListAsync(string organisationId, CancellationToken cancellationToken);

    /// <summary>Replaces the endpoint (same organisation and id); false when it is gone.</summary>
    Task<bool> UpdateAsync(WebhookEndpoint endpoint, CancellationToken cancellationToken);

    /// <summary>Removes the endpoint and its deliveries; false when it was not the organisation's.</summary>
    Task<bool> DeleteAsync(string organisationId, string id, CancellationToken cancellationToken);

    /// <summary>
    /// Stores the event unless one with its id is stored already, and returns the one stored: the first raise's body
    /// wins, so a second raise (concurrent, or a job re-run after a crash) fans out the same bytes.
    /// </summary>
    Task<WebhookEvent> AddEventAsync(WebhookEvent webhookEvent, CancellationToken cancellationToken);

    /// <summary>
    /// Stores each delivery (one event fanned out to several endpoints) unless one with its id is stored already: a
    /// delivery id names one event for one endpoint, so raising an event again adds nothing and resets nothing.
    /// </summary>
    Task AddDeliveriesAsync(IReadOnlyList<WebhookDelivery> deliveries, CancellationToken cancellationToken);

    Task<WebhookDelivery?> GetDeliveryAsync(string endpointId, string id, CancellationToken cancellationToken);

    /// <summary>The endpoint's deliveries, newest first.</summary>
    Task<IReadOnlyList<WebhookDelivery>> ListDeliveriesAsync(string endpointId, int max, CancellationToken cancellationToken);

    /// <summary>
    /// Writes <paramref name="updated"/> only if the stored delivery still has <paramref name="expectedStatus"/> and
    /// <paramref name="expectedAttempts"/>; false when another writer changed it first (or it is gone).
    /// </summary>
    Task<bool> TryUpdateDeliveryAsync(WebhookDelivery updated, string expectedStatus, int expectedAttempts, CancellationToken cancellationToken);

    /// <summary>Pending or sending deliveries whose <see cref="WebhookDelivery.NextAttemptAt"/> has come, oldest first.</summary>
    Task<IReadOnlyList<WebhookDelivery>> DueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken);

    /// <summary>
    /// Retention, one bounded batch: removes up to <paramref name="max"/> deliveries that ended (delivered or failed)
    /// before <paramref name="before"/>, then up to <paramref name="max"/> events created before it of which no delivery
    /// is left. A pending or sending delivery is never removed, nor an event while any delivery of it remains (a
    /// delivery's id is <see cref="OutboundWebhooks.WebhookIds.Delivery"/> of its event and endpoint). An adapter whose
    /// query cannot pass over the events that must stay goes on where its last batch stopped, so repeated batches reach every one.
    /// </summary>
    Task<WebhookPurge> PurgeAsync(DateTimeOffset before, int max, CancellationToken cancellationToken);
}
