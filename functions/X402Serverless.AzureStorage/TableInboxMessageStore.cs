using Azure;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Inbox;
using X402Serverless.Core.Ports;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

/// <summary>
/// Inbox messages, one partition each (id); the document is split over properties of at most 30,000 characters (a
/// string property holds 32K). A change is an ETag-guarded replace after the status and version are compared.
/// </summary>
public sealed class TableInboxMessageStore(TableServiceClient service, string tableName = "inboxmessages") : IInboxMessageStore
{
    private const string Row = "msg";
    private const int Chunk = 30_000;
    private readonly TableClient _table = service.GetTableClient(tableName);

    public Task InitializeAsync(CancellationToken cancellationToken) => _table.CreateIfNotExistsAsync(cancellationToken);

    public async Task AddAsync(InboxMessage message, CancellationToken cancellationToken) =>
        await _table.AddEntityAsync(ToEntity(message), cancellationToken);

    public async Task<InboxMessage?> GetAsync(string id, CancellationToken cancellationToken) =>
        await _table.FindAsync(id, Row, cancellationToken) is { } entity ? FromEntity(entity) : null;

    public async Task<bool> TryUpdateAsync(InboxMessage updated, string expectedStatus, int expectedAttempts, CancellationToken cancellationToken)
    {
        if (await _table.FindAsync(updated.Id, Row, cancellationToken) is not { } current
            || Str(current, "Status") != expectedStatus || OptInt(current, "Attempts") != expectedAttempts)
        {
            return false;
        }
        try
        {
            await _table.UpdateEntityAsync(ToEntity(updated), current.ETag, TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.IsPreconditionFailed() || e.IsNotFound())
        {
            return false;
        }
    }

    public async Task<IReadOnlyList<InboxMessage>> DueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"(Status eq {MessageStatuses.Queued} or Status eq {MessageStatuses.Sending}) and NextAttemptAt le {Time(now)}");
        // Partitions come back in key order, not due order: the scan reads them all, then takes the oldest.
        return (await _table.ListAsync(filter, null, cancellationToken))
            .OrderBy(e => Str(e, "NextAttemptAt"), StringComparer.Ordinal).Take(max).Select(FromEntity).ToList();
    }

    public async Task DeleteHeldAsync(string id, CancellationToken cancellationToken)
    {
        if (await _table.FindAsync(id, Row, cancellationToken) is { } entity && Str(entity, "Status") == MessageStatuses.Held)
        {
            try
            {
                await _table.DeleteEntityAsync(id, Row, entity.ETag, cancellationToken);
            }
            catch (RequestFailedException e) when (e.IsPreconditionFailed() || e.IsNotFound())
            {
                // Changed meanwhile: no longer held, so it stays.
            }
        }
    }

    private static TableEntity ToEntity(InboxMessage message)
    {
        var json = InboxMessageJson.Write(message);
        var entity = new TableEntity(message.Id, Row)
        {
            ["Status"] = message.Status,
            ["Attempts"] = message.Attempts,
            ["NextAttemptAt"] = Time(message.NextAttemptAt),
            ["Chunks"] = (json.Length + Chunk - 1) / Chunk,
        };
        for (var i = 0; i * Chunk < json.Length; i++)
        {
            entity[$"Message{i}"] = json.Substring(i * Chunk, Math.Min(Chunk, json.Length - i * Chunk));
        }
        return entity;
    }

    private static InboxMessage FromEntity(TableEntity entity)
    {
        var chunks = OptInt(entity, "Chunks") ?? 0;
        return InboxMessageJson.Read(string.Concat(Enumerable.Range(0, chunks).Select(i => Str(entity, $"Message{i}"))));
    }
}
