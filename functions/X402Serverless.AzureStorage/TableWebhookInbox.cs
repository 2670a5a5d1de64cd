using System.Text.Json.Nodes;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Ports;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

/// <summary>One sender's events by id (partition = event id), a table per sender: the insert is the redelivery guard.</summary>
public sealed class TableWebhookInbox(TableClient tables, string tableName = "stripeevents") : IWebhookInbox
{
    private const string Row = "item";

    public Task InitializeAsync(CancellationToken cancellationToken) => tables.CreateTableIfMissingAsync(tableName, cancellationToken);

    public async Task<bool> TryAddAsync(string id, string type, string payload, DateTimeOffset at, CancellationToken cancellationToken)
    {
        try
        {
            await tables.InsertAsync(tableName, new JsonObject
            {
                ["PartitionKey"] = id, ["RowKey"] = Row, ["Type"] = type, ["Payload"] = payload, ["ReceivedAt"] = Time(at), ["Processed"] = false,
            }, cancellationToken);
            return true;
        }
        catch (TableException e) when (e.IsConflict)
        {
            return false;
        }
    }

    public async Task<IReadOnlyList<(string Id, string Payload)>> PendingAsync(int max, CancellationToken cancellationToken) =>
        (await tables.QueryAsync(tableName, "Processed eq false", max, cancellationToken))
            .OrderBy(e => Str(e, "ReceivedAt"), StringComparer.Ordinal)
            .Select(e => (Str(e, "PartitionKey"), Str(e, "Payload"))).ToList();

    public async Task<string?> PayloadAsync(string id, CancellationToken cancellationToken) =>
        await tables.GetAsync(tableName, id, Row, cancellationToken) is { } found ? Str(found.Entity, "Payload") : null;

    public async Task MarkProcessedAsync(string id, string outcome, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (await tables.GetAsync(tableName, id, Row, cancellationToken) is not { } found)
        {
            return;
        }
        var entity = found.Entity;
        entity["Processed"] = true;
        entity["ProcessedAt"] = Time(at);
        entity["Outcome"] = outcome;
        entity.Remove("Timestamp");
        await tables.ReplaceAsync(tableName, entity, found.ETag, cancellationToken);
    }
}
