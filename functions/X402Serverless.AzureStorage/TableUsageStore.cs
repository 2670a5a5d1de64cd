using Azure;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Usage;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

/// <summary>
/// Daily counters (partition = organisation, row = "day|link|kind", so one organisation's period is one range query).
/// Each add is an ETag-checked read-modify-write, retried on a lost race: concurrent flushes never lose counts.
/// </summary>
public sealed class TableUsageStore(TableServiceClient service, string tableName = "usagedaily") : IUsageStore
{
    private readonly TableClient _table = service.GetTableClient(tableName);

    public Task InitializeAsync(CancellationToken cancellationToken) => _table.CreateIfNotExistsAsync(cancellationToken);

    public async Task AddAsync(IReadOnlyList<UsageCount> counts, CancellationToken cancellationToken)
    {
        foreach (var c in counts)
        {
            await AddOneAsync(c, cancellationToken);
        }
    }

    public async Task<IReadOnlyList<UsageCount>> ListAsync(string organisationId, string fromDay, CancellationToken cancellationToken) =>
        (await _table.ListAsync(TableClient.CreateQueryFilter($"PartitionKey eq {organisationId} and RowKey ge {fromDay}"), null, cancellationToken))
            .Select(e => new UsageCount(organisationId, Str(e, "LinkId"), Str(e, "Day"), Str(e, "Kind"), OptLong(e, "Count") ?? 0))
            .ToList();

    private async Task AddOneAsync(UsageCount c, CancellationToken cancellationToken)
    {
        var row = $"{c.Day}|{c.LinkId}|{c.Kind}";
        for (var attempt = 0; attempt < 10; attempt++)
        {
            try
            {
                if (await _table.FindAsync(c.OrganisationId, row, cancellationToken) is { } entity)
                {
                    entity["Count"] = Long((OptLong(entity, "Count") ?? 0) + c.Count);
                    await _table.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, cancellationToken);
                }
                else
                {
                    await _table.AddEntityAsync(new TableEntity(c.OrganisationId, row)
                    {
                        ["LinkId"] = c.LinkId, ["Day"] = c.Day, ["Kind"] = c.Kind, ["Count"] = Long(c.Count),
                    }, cancellationToken);
                }
                return;
            }
            catch (RequestFailedException e) when (e.IsConflict() || e.IsPreconditionFailed())
            {
                // another flush moved the counter first: read it again
            }
        }
        throw new InvalidOperationException($"Usage counter {c.OrganisationId}/{row} kept changing; the counts stay queued.");
    }
}
