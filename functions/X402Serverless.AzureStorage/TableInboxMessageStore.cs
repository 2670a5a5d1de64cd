using Azure;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Inbox;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

/// <summary>
/// Inbox messages, one partition each (id); the document is split over properties of at most 30,000 characters (a
/// string property holds 32K). A change is an ETag-guarded replace after the status and version are compared.
/// A link's messages are listed through index rows in the partition "link|{linkId}" (row key: inverted creation
/// ticks and the id, so newest first); its running counters are a few shard rows in "totals|{linkId}", so
/// concurrent messages rarely contend for one ETag.
/// </summary>
public sealed class TableInboxMessageStore(TableServiceClient service, string tableName = "inboxmessages") : IInboxMessageStore
{
    private const string Row = "msg";
    private const int Chunk = 30_000;
    private readonly TableClient _table = service.GetTableClient(tableName);

    public Task InitializeAsync(CancellationToken cancellationToken) => _table.CreateIfNotExistsAsync(cancellationToken);

    private const int TotalShards = 8;

    public async Task AddAsync(InboxMessage message, CancellationToken cancellationToken)
    {
        await _table.AddEntityAsync(ToEntity(message), cancellationToken);
        // The index row after the message: an index row always finds its message (or a held one, skipped when listed).
        await _table.UpsertEntityAsync(new TableEntity(IndexPartition(message.LinkId), IndexRow(message)) { ["MessageId"] = message.Id },
            TableUpdateMode.Replace, cancellationToken);
    }

    public async Task<InboxMessagePage> ListAsync(string linkId, string? after, int limit, CancellationToken cancellationToken)
    {
        var partition = IndexPartition(linkId);
        var filter = after is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {partition}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey gt {after}");
        var items = new List<InboxMessage>();
        string? lastRow = null;
        await foreach (var index in _table.QueryAsync<TableEntity>(filter, Math.Min(100, limit + 1), cancellationToken: cancellationToken))
        {
            if (items.Count == limit)
            {
                return new InboxMessagePage(items, lastRow);
            }
            if (await GetAsync(Str(index, "MessageId"), cancellationToken) is { } message && message.Status != MessageStatuses.Held)
            {
                items.Add(message);
                lastRow = index.RowKey;
            }
        }
        return new InboxMessagePage(items, null);
    }

    public async Task<IReadOnlyList<InboxMessage>> HeldBeforeAsync(DateTimeOffset before, int max, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"Status eq {MessageStatuses.Held} and UpdatedAt le {Time(before)}");
        return (await _table.ListAsync(filter, null, cancellationToken))
            .OrderBy(e => Str(e, "UpdatedAt"), StringComparer.Ordinal).Take(max).Select(FromEntity).ToList();
    }

    public async Task<IReadOnlyList<InboxMessage>> RefundsDueAsync(DateTimeOffset before, int max, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"RefundPending eq true and UpdatedAt le {Time(before)}");
        return (await _table.ListAsync(filter, null, cancellationToken))
            .OrderBy(e => Str(e, "UpdatedAt"), StringComparer.Ordinal).Take(max).Select(FromEntity).ToList();
    }

    public async Task AddTotalsAsync(string linkId, InboxTotals delta, CancellationToken cancellationToken)
    {
        var partition = TotalsPartition(linkId);
        var row = Random.Shared.Next(TotalShards).ToString(System.Globalization.CultureInfo.InvariantCulture);
        while (true)
        {
            try
            {
                if (await _table.FindAsync(partition, row, cancellationToken) is { } current)
                {
                    await _table.UpdateEntityAsync(TotalsEntity(partition, row, ReadTotals(current).Plus(delta)), current.ETag, TableUpdateMode.Replace, cancellationToken);
                }
                else
                {
                    await _table.AddEntityAsync(TotalsEntity(partition, row, delta), cancellationToken);
                }
                return;
            }
            catch (RequestFailedException e) when (e.IsPreconditionFailed() || e.IsConflict())
            {
                // Another writer added to this shard first: read it again and add on top.
            }
        }
    }

    public async Task<InboxTotals> TotalsAsync(string linkId, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {TotalsPartition(linkId)}");
        return (await _table.ListAsync(filter, null, cancellationToken)).Select(ReadTotals).Aggregate(InboxTotals.None, (a, b) => a.Plus(b));
    }

    private static string IndexPartition(string linkId) => "link|" + linkId;

    private static string TotalsPartition(string linkId) => "totals|" + linkId;

    private static string IndexRow(InboxMessage message) =>
        $"{DateTimeOffset.MaxValue.UtcTicks - message.CreatedAt.UtcTicks:D19}|{message.Id}";

    private static TableEntity TotalsEntity(string partition, string row, InboxTotals totals) => new(partition, row)
    {
        ["Messages"] = totals.Messages,
        ["Paid"] = totals.Paid.Micros,
        ["Refunded"] = totals.Refunded.Micros,
        ["Owed"] = totals.RefundOwed.Micros,
    };

    private static InboxTotals ReadTotals(TableEntity e) => new(
        OptLong(e, "Messages") ?? 0, Usd.FromMicros(OptLong(e, "Paid") ?? 0), Usd.FromMicros(OptLong(e, "Refunded") ?? 0), Usd.FromMicros(OptLong(e, "Owed") ?? 0));

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
                var message = FromEntity(entity);
                await _table.DeleteEntityAsync(IndexPartition(message.LinkId), IndexRow(message), ETag.All, cancellationToken);
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
            ["UpdatedAt"] = Time(message.UpdatedAt),
            ["RefundPending"] = message.RefundPending,
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
