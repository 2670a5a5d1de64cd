using Azure;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.OutboundWebhooks;
using X402Serverless.Core.Ports;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

/// <summary>
/// Endpoints partitioned by organisation (a read names both, so another organisation's id is simply not found);
/// deliveries partitioned by endpoint, keyed by an id whose prefix is the inverted creation time (newest first). A
/// delivery's document is split over properties of at most 30,000 characters; a change is an ETag-guarded replace.
/// Events partitioned by organisation, keyed by their derived id: an insert that conflicts reads the first one back.
/// </summary>
public sealed class TableWebhookEndpointStore(TableServiceClient service, string endpointsTable = "webhookendpoints", string deliveriesTable = "webhookdeliveries",
    string eventsTable = "webhookevents")
    : IWebhookEndpointStore
{
    private const int Chunk = 30_000;
    private readonly TableClient _endpoints = service.GetTableClient(endpointsTable);
    private readonly TableClient _deliveries = service.GetTableClient(deliveriesTable);
    private readonly TableClient _events = service.GetTableClient(eventsTable);

    // Where the next retention batch's scan of events starts (null: the beginning); a hint, so a race only rescans.
    private (string Partition, string Row)? _eventScanFrom;

    public Task InitializeAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_endpoints.CreateIfNotExistsAsync(cancellationToken), _deliveries.CreateIfNotExistsAsync(cancellationToken),
            _events.CreateIfNotExistsAsync(cancellationToken));

    public async Task CreateAsync(WebhookEndpoint endpoint, CancellationToken cancellationToken) =>
        await _endpoints.AddEntityAsync(ToEntity(endpoint), cancellationToken);

    public async Task<WebhookEndpoint?> GetAsync(string organisationId, string id, CancellationToken cancellationToken) =>
        await _endpoints.FindAsync(organisationId, id, cancellationToken) is { } entity ? FromEntity(entity) : null;

    public async Task<IReadOnlyList<WebhookEndpoint>> ListAsync(string organisationId, CancellationToken cancellationToken) =>
        (await _endpoints.ListAsync(TableClient.CreateQueryFilter($"PartitionKey eq {organisationId}"), null, cancellationToken))
            .Select(FromEntity).OrderBy(e => e.CreatedAt).ThenBy(e => e.Id, StringComparer.Ordinal).ToList();

    public async Task<bool> UpdateAsync(WebhookEndpoint endpoint, CancellationToken cancellationToken)
    {
        try
        {
            await _endpoints.UpdateEntityAsync(ToEntity(endpoint), ETag.All, TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.IsNotFound())
        {
            return false;
        }
    }

    public async Task<bool> DeleteAsync(string organisationId, string id, CancellationToken cancellationToken)
    {
        if (await _endpoints.FindAsync(organisationId, id, cancellationToken) is null)
        {
            return false;
        }
        // The endpoint first: a delivery left behind by a crash here is never sent (its endpoint is gone) nor listed.
        try
        {
            await _endpoints.DeleteEntityAsync(organisationId, id, ETag.All, cancellationToken);
        }
        catch (RequestFailedException e) when (e.IsNotFound())
        {
            return false;
        }
        var rows = await _deliveries.ListAsync(TableClient.CreateQueryFilter($"PartitionKey eq {id}"), null, cancellationToken);
        foreach (var batch in rows.Chunk(100))
        {
            await _deliveries.SubmitTransactionAsync(batch.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, r, ETag.All)), cancellationToken);
        }
        return true;
    }

    public async Task<WebhookEvent> AddEventAsync(WebhookEvent webhookEvent, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(webhookEvent.OrganisationId, webhookEvent.Id) { ["Type"] = webhookEvent.Type, ["CreatedAt"] = Time(webhookEvent.CreatedAt) };
        Split(entity, "Payload", webhookEvent.Payload);
        try
        {
            await _events.AddEntityAsync(entity, cancellationToken);
            return webhookEvent;
        }
        catch (RequestFailedException e) when (e.IsConflict())
        {
            var stored = await _events.FindAsync(webhookEvent.OrganisationId, webhookEvent.Id, cancellationToken)
                ?? throw new InvalidOperationException($"Webhook event {webhookEvent.Id} conflicted but is not found.");
            return new WebhookEvent(webhookEvent.Id, webhookEvent.OrganisationId, Str(stored, "Type"), Join(stored, "Payload"), Time(stored, "CreatedAt"));
        }
    }

    public async Task AddDeliveriesAsync(IReadOnlyList<WebhookDelivery> deliveries, CancellationToken cancellationToken)
    {
        // One partition per endpoint, so an event fanned out to several endpoints is several writes; each an insert
        // that leaves a delivery already stored (a second raise) as it is, wherever its attempts have got to.
        foreach (var delivery in deliveries)
        {
            try
            {
                await _deliveries.AddEntityAsync(ToEntity(delivery), cancellationToken);
            }
            catch (RequestFailedException e) when (e.IsConflict())
            {
                // already stored
            }
        }
    }

    public async Task<WebhookDelivery?> GetDeliveryAsync(string endpointId, string id, CancellationToken cancellationToken) =>
        await _deliveries.FindAsync(endpointId, id, cancellationToken) is { } entity ? FromDeliveryEntity(entity) : null;

    public async Task<IReadOnlyList<WebhookDelivery>> ListDeliveriesAsync(string endpointId, int max, CancellationToken cancellationToken) =>
        (await _deliveries.ListAsync(TableClient.CreateQueryFilter($"PartitionKey eq {endpointId}"), max, cancellationToken)).Select(FromDeliveryEntity).ToList();

    public async Task<bool> TryUpdateDeliveryAsync(WebhookDelivery updated, string expectedStatus, int expectedAttempts, CancellationToken cancellationToken)
    {
        if (await _deliveries.FindAsync(updated.EndpointId, updated.Id, cancellationToken) is not { } current
            || Str(current, "Status") != expectedStatus || OptInt(current, "Attempts") != expectedAttempts)
        {
            return false;
        }
        try
        {
            await _deliveries.UpdateEntityAsync(ToEntity(updated), current.ETag, TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.IsPreconditionFailed() || e.IsNotFound())
        {
            return false;
        }
    }

    public async Task<IReadOnlyList<WebhookDelivery>> DueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"(Status eq {DeliveryStatuses.Pending} or Status eq {DeliveryStatuses.Sending}) and NextAttemptAt le {Time(now)}");
        // Partitions come back in key order, not due order: the scan reads them all, then takes the oldest.
        return (await _deliveries.ListAsync(filter, null, cancellationToken))
            .OrderBy(e => Str(e, "NextAttemptAt"), StringComparer.Ordinal).Take(max).Select(FromDeliveryEntity).ToList();
    }

    public async Task<WebhookPurge> PurgeAsync(DateTimeOffset before, int max, CancellationToken cancellationToken)
    {
        // An ended delivery's NextAttemptAt is when it ended. Each is removed only if unchanged since read (its ETag):
        // one redelivered meanwhile is pending again and stays.
        var ended = await _deliveries.ListAsync(TableClient.CreateQueryFilter(
            $"(Status eq {DeliveryStatuses.Delivered} or Status eq {DeliveryStatuses.Failed}) and NextAttemptAt lt {Time(before)}"), max, cancellationToken);
        var deliveries = 0;
        foreach (var row in ended)
        {
            try
            {
                await _deliveries.DeleteEntityAsync(row.PartitionKey, row.RowKey, row.ETag, cancellationToken);
                deliveries++;
            }
            catch (RequestFailedException e) when (e.IsPreconditionFailed() || e.IsNotFound())
            {
                // changed or removed meanwhile
            }
        }
        // Events are partitioned by organisation and deliveries by endpoint: an event's deliveries can only be at its
        // organisation's endpoints, under the ids derived from it, so each is a point read rather than a scan. The
        // service cannot skip events that must stay, so each batch goes on from where the last one stopped (back to
        // the start at the end): kept events at the front never starve the rest.
        var from = _eventScanFrom;
        var filter = TableClient.CreateQueryFilter($"CreatedAt lt {Time(before)}");
        if (from is { } start)
        {
            filter += TableClient.CreateQueryFilter($" and (PartitionKey gt {start.Partition} or (PartitionKey eq {start.Partition} and RowKey gt {start.Row}))");
        }
        var old = await _events.ListAsync(filter, max, cancellationToken);
        _eventScanFrom = old.Count < max ? null : (old[^1].PartitionKey, old[^1].RowKey);
        var events = 0;
        foreach (var organisation in old.GroupBy(e => e.PartitionKey))
        {
            var endpoints = await _endpoints.ListAsync(TableClient.CreateQueryFilter($"PartitionKey eq {organisation.Key}"), null, cancellationToken);
            foreach (var row in organisation)
            {
                var webhookEvent = new WebhookEvent(row.RowKey, row.PartitionKey, Str(row, "Type"), "", Time(row, "CreatedAt"));
                var left = false;
                foreach (var endpoint in endpoints)
                {
                    if (await _deliveries.FindAsync(endpoint.RowKey, WebhookIds.Delivery(webhookEvent, endpoint.RowKey), cancellationToken) is not null)
                    {
                        left = true;
                        break;
                    }
                }
                if (!left)
                {
                    try
                    {
                        await _events.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken);
                        events++;
                    }
                    catch (RequestFailedException e) when (e.IsNotFound())
                    {
                        // removed meanwhile
                    }
                }
            }
        }
        return new WebhookPurge(deliveries, events);
    }

    private static TableEntity ToEntity(WebhookEndpoint endpoint) =>
        new(endpoint.OrganisationId, endpoint.Id) { ["Endpoint"] = WebhookJson.Write(endpoint) };

    private static WebhookEndpoint FromEntity(TableEntity entity) => WebhookJson.ReadEndpoint(Str(entity, "Endpoint"));

    private static TableEntity ToEntity(WebhookDelivery delivery)
    {
        var json = WebhookJson.Write(delivery);
        var entity = new TableEntity(delivery.EndpointId, delivery.Id)
        {
            ["Status"] = delivery.Status,
            ["Attempts"] = delivery.Attempts,
            ["NextAttemptAt"] = Time(delivery.NextAttemptAt),
        };
        Split(entity, "Delivery", json);
        return entity;
    }

    private static WebhookDelivery FromDeliveryEntity(TableEntity entity) => WebhookJson.ReadDelivery(Join(entity, "Delivery"));

    // A string property holds at most 32K characters: a long text is split over numbered ones ("Chunks" counts them).
    private static void Split(TableEntity entity, string name, string text)
    {
        entity["Chunks"] = (text.Length + Chunk - 1) / Chunk;
        for (var i = 0; i * Chunk < text.Length; i++)
        {
            entity[$"{name}{i}"] = text.Substring(i * Chunk, Math.Min(Chunk, text.Length - i * Chunk));
        }
    }

    private static string Join(TableEntity entity, string name) =>
        string.Concat(Enumerable.Range(0, OptInt(entity, "Chunks") ?? 0).Select(i => Str(entity, $"{name}{i}")));
}
