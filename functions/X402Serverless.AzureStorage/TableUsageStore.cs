using System.Text.Json.Nodes;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Usage;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

/// <summary>
/// Daily counters (partition = organisation, row = "day|link|kind", so one organisation's period is one range query).
/// Each add is an ETag-checked read-modify-write, retried on a lost race: concurrent flushes never lose counts.
/// </summary>
public sealed class TableUsageStore(TableClient tables, string tableName = "usagedaily") : IUsageStore
{
    public Task InitializeAsync(CancellationToken cancellationToken) => tables.CreateTableIfMissingAsync(tableName, cancellationToken);

    public async Task AddAsync(IReadOnlyList<UsageCount> counts, CancellationToken cancellationToken)
    {
        foreach (var c in counts)
        {
            await AddOneAsync(c, cancellationToken);
        }
    }

    public async Task<IReadOnlyList<UsageCount>> ListAsync(string organisationId, string fromDay, CancellationToken cancellationToken) =>
        (await tables.QueryAsync(tableName, $"PartitionKey eq {TableClient.Literal(organisationId)} and RowKey ge {TableClient.Literal(fromDay)}", null, cancellationToken))
            .Select(e => new UsageCount(organisationId, Str(e, "LinkId"), Str(e, "Day"), Str(e, "Kind"), OptLong(e, "Count") ?? 0))
            .ToList();

    private async Task AddOneAsync(UsageCount c, CancellationToken cancellationToken)
    {
        var row = $"{c.Day}|{c.LinkId}|{c.Kind}";
        for (var attempt = 0; attempt < 10; attempt++)
        {
            try
            {
                if (await tables.GetAsync(tableName, c.OrganisationId, row, cancellationToken) is { } found)
                {
                    var entity = found.Entity;
                    entity.Remove("Timestamp");
                    entity["Count"] = Long((OptLong(entity, "Count") ?? 0) + c.Count);
                    await tables.ReplaceAsync(tableName, entity, found.ETag, cancellationToken);
                }
                else
                {
                    await tables.InsertAsync(tableName, new JsonObject
                    {
                        ["PartitionKey"] = c.OrganisationId, ["RowKey"] = row, ["LinkId"] = c.LinkId, ["Day"] = c.Day, ["Kind"] = c.Kind, ["Count"] = Long(c.Count),
                    }, cancellationToken);
                }
                return;
            }
            catch (TableException e) when (e.IsConflict || e.IsPreconditionFailed)
            {
                // another flush moved the counter first: read it again
            }
        }
        throw new InvalidOperationException($"Usage counter {c.OrganisationId}/{row} kept changing; the counts stay queued.");
    }
}
