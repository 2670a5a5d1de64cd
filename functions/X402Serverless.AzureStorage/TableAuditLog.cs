using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Access;
using X402Serverless.Core.Ports;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

/// <summary>
/// The audit log: partition = organisation, row key = entry id (inverted time, so a partition reads newest first).
/// Entries are only ever added (AddEntity fails on an existing row), never upserted.
/// </summary>
public sealed class TableAuditLog(TableServiceClient service, string tableName = "auditentries") : IAuditLog
{
    private readonly TableClient _table = service.GetTableClient(tableName);

    public Task InitializeAsync(CancellationToken cancellationToken) => _table.CreateIfNotExistsAsync(cancellationToken);

    public Task AppendAsync(AuditEntry entry, CancellationToken cancellationToken) =>
        _table.AddEntityAsync(new TableEntity(entry.OrganisationId, entry.Id)
        {
            ["At"] = Time(entry.At),
            ["ActorKind"] = entry.Actor.Kind,
            ["ActorId"] = entry.Actor.Id,
            ["ActorLabel"] = entry.Actor.Label,
            ["ActorRole"] = entry.Actor.Role,
            ["Action"] = entry.Action,
            ["TargetType"] = entry.TargetType,
            ["TargetId"] = entry.TargetId,
            ["Before"] = entry.Before,
            ["After"] = entry.After,
            ["ClientAddress"] = entry.ClientAddress,
            ["Outcome"] = entry.Outcome,
            ["Status"] = entry.Status,
        }, cancellationToken);

    public async Task<AuditPage> ListAsync(string organisationId, AuditQuery query, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {organisationId}");
        if (query.After is { } after)
        {
            filter += " and " + TableClient.CreateQueryFilter($"RowKey gt {after}");
        }
        if (query.Action is { } action)
        {
            filter += " and " + TableClient.CreateQueryFilter($"Action eq {action}");
        }
        if (query.TargetType is { } type)
        {
            filter += " and " + TableClient.CreateQueryFilter($"TargetType eq {type}");
        }
        if (query.TargetId is { } target)
        {
            filter += " and " + TableClient.CreateQueryFilter($"TargetId eq {target}");
        }
        // Within a partition, results come in row key order: newest first. One more than asked tells whether there is a next page.
        var found = await _table.ListAsync(filter, query.Limit + 1, cancellationToken, pageSize: Math.Min(1000, query.Limit + 1));
        var entries = found.Select(e => new AuditEntry(
            e.RowKey, e.PartitionKey, Time(e, "At"),
            new AuditActor(Str(e, "ActorKind"), Str(e, "ActorId"), Str(e, "ActorLabel"), OptStr(e, "ActorRole")),
            Str(e, "Action"), Str(e, "TargetType"), OptStr(e, "TargetId"), OptStr(e, "Before"), OptStr(e, "After"),
            OptStr(e, "ClientAddress"), Str(e, "Outcome"), e.GetInt32("Status") ?? 0)).ToList();
        return entries.Count > query.Limit
            ? new AuditPage(entries[..query.Limit], entries[query.Limit - 1].Id)
            : new AuditPage(entries, null);
    }
}
