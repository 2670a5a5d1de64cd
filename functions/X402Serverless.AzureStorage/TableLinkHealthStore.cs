using Azure;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Health;
using X402Serverless.Core.Ports;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

/// <summary>
/// One entity per probed link in one partition (the catalogue reads them all at once). Only the one probe pass
/// running at a time writes them, so a write replaces the entity unconditionally.
/// </summary>
public sealed class TableLinkHealthStore(TableServiceClient service, string tableName = "linkhealth") : ILinkHealthStore
{
    private const string Partition = "health";

    private readonly TableClient _table = service.GetTableClient(tableName);

    public Task InitializeAsync(CancellationToken cancellationToken) => _table.CreateIfNotExistsAsync(cancellationToken);

    public async Task SaveAsync(IReadOnlyList<LinkHealth> records, CancellationToken cancellationToken)
    {
        // One partition: up to 100 upserts per entity-group transaction.
        foreach (var chunk in records.Chunk(100))
        {
            await _table.SubmitTransactionAsync(
                chunk.Select(h => new TableTransactionAction(TableTransactionActionType.UpsertReplace, ToEntity(h))), cancellationToken);
        }
    }

    public async Task<IReadOnlyList<LinkHealth>> ListAsync(CancellationToken cancellationToken) =>
        (await _table.ListAsync(TableClient.CreateQueryFilter($"PartitionKey eq {Partition}"), null, cancellationToken)).Select(FromEntity).ToList();

    public async Task DeleteAsync(IReadOnlyList<string> linkIds, CancellationToken cancellationToken)
    {
        foreach (var id in linkIds)
        {
            try
            {
                await _table.DeleteEntityAsync(Partition, id, ETag.All, cancellationToken);
            }
            catch (RequestFailedException e) when (e.IsNotFound())
            {
                // already gone
            }
        }
    }

    private static TableEntity ToEntity(LinkHealth h) => new(Partition, h.LinkId)
    {
        ["OrganisationId"] = h.OrganisationId,
        ["Up"] = h.Up,
        ["CheckedAt"] = Time(h.CheckedAt),
        ["Status"] = h.Status,
        ["Failure"] = h.Failure,
        ["ConsecutiveFailures"] = h.ConsecutiveFailures,
        ["LastUpAt"] = h.LastUpAt is { } up ? Time(up) : null,
    };

    private static LinkHealth FromEntity(TableEntity e) => new()
    {
        LinkId = e.RowKey,
        OrganisationId = Str(e, "OrganisationId"),
        Up = Bool(e, "Up"),
        CheckedAt = Time(e, "CheckedAt"),
        Status = OptInt(e, "Status"),
        Failure = OptStr(e, "Failure"),
        ConsecutiveFailures = OptInt(e, "ConsecutiveFailures") ?? 0,
        LastUpAt = OptStr(e, "LastUpAt") is { } up ? Time(up) : null,
    };
}
