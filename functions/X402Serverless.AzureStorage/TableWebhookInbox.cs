using Azure;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Ports;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

/// <summary>One sender's events by id (partition = event id), a table per sender: the insert is the redelivery guard.</summary>
public sealed class TableWebhookInbox(TableServiceClient service, string tableName = "stripeevents") : IWebhookInbox
{
    private const string Row = "item";
    private readonly TableClient _table = service.GetTableClient(tableName);

    public Task InitializeAsync(CancellationToken cancellationToken) => _table.CreateIfNotExistsAsync(cancellationToken);

    public async Task<bool> TryAddAsync(string id, string type, string payload, DateTimeOffset at, CancellationToken cancellationToken)
    {
        try
        {
            await _table.AddEntityAsync(new TableEntity(id, Row)
            {
                ["Type"] = type, ["Payload"] = payload, ["ReceivedAt"] = Time(at), ["Processed"] = false,
            }, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.IsConflict())
        {
            return false;
        }
    }

    public async Task<IReadOnlyList<(string Id, string Payload)>> PendingAsync(int max, CancellationToken cancellationToken) =>
        (await _table.ListAsync(TableClient.CreateQueryFilter($"Processed eq {false}"), max, cancellationToken))
            .OrderBy(e => Str(e, "ReceivedAt"), StringComparer.Ordinal)
            .Select(e => (Str(e, "PartitionKey"), Str(e, "Payload"))).ToList();

    public async Task<string?> PayloadAsync(string id, CancellationToken cancellationToken) =>
        await _table.FindAsync(id, Row, cancellationToken) is { } found ? Str(found, "Payload") : null;

    public async Task MarkProcessedAsync(string id, string outcome, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (await _table.FindAsync(id, Row, cancellationToken) is not { } entity)
        {
            return;
        }
        entity["Processed"] = true;
        entity["ProcessedAt"] = Time(at);
        entity["Outcome"] = outcome;
        await _table.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, cancellationToken);
    }
}
