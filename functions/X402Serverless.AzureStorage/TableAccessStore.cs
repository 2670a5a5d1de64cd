using Azure;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Access;
using X402Serverless.Core.Ports;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

/// <summary>
/// Organisations (partition = organisation id) and management keys (partition = key hash, so authenticating a request
/// is one point read). An organisation is written before its first key, so a crash leaves at worst a keyless organisation.
/// </summary>
public sealed class TableAccessStore(TableServiceClient service, string organisationsTable = "organisations", string keysTable = "accesskeys") : IAccessStore
{
    private const string Row = "item";
    private readonly TableClient _organisations = service.GetTableClient(organisationsTable);
    private readonly TableClient _keys = service.GetTableClient(keysTable);

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _organisations.CreateIfNotExistsAsync(cancellationToken);
        await _keys.CreateIfNotExistsAsync(cancellationToken);
    }

    public async Task<int> CountOrganisationsAsync(CancellationToken cancellationToken) =>
        (await _organisations.ListAsync(TableClient.CreateQueryFilter($"RowKey eq {Row}"), null, cancellationToken)).Count;

    public async Task CreateOrganisationAsync(Organisation organisation, AccessKey firstKey, string keyHash, CancellationToken cancellationToken)
    {
        await _organisations.AddEntityAsync(new TableEntity(organisation.Id, Row)
        {
            ["Name"] = organisation.Name,
            ["IsOperator"] = organisation.IsOperator,
            ["CreatedAt"] = Time(organisation.CreatedAt),
        }, cancellationToken);
        await AddKeyAsync(firstKey, keyHash, cancellationToken);
    }

    public async Task AddKeyAsync(AccessKey key, string keyHash, CancellationToken cancellationToken) =>
        await _keys.AddEntityAsync(new TableEntity(keyHash, Row)
        {
            ["KeyId"] = key.Id,
            ["OrganisationId"] = key.OrganisationId,
            ["Prefix"] = key.Prefix,
            ["Role"] = key.Role,
            ["Facilitator"] = key.Facilitator,
            ["CreatedAt"] = Time(key.CreatedAt),
        }, cancellationToken);

    public async Task<IReadOnlyList<AccessKey>> ListKeysAsync(string organisationId, CancellationToken cancellationToken) =>
        (await _keys.ListAsync(TableClient.CreateQueryFilter($"OrganisationId eq {organisationId}"), null, cancellationToken))
            .Select(ReadKey)
            .OrderBy(k => k.CreatedAt).ThenBy(k => k.Id, StringComparer.Ordinal).ToList();

    public async Task<KeyRevocation> RevokeKeyAsync(string organisationId, string keyId, CancellationToken cancellationToken)
    {
        // Keys are partitioned by hash, so there is no transaction across them: two admins revoking each other in the
        // same instant could both pass this check. Each still needs an admin key of the organisation to try.
        var keys = (await _keys.ListAsync(TableClient.CreateQueryFilter($"OrganisationId eq {organisationId}"), null, cancellationToken))
            .Select(k => (Entity: k, Key: ReadKey(k))).ToList();
        if (keys.FirstOrDefault(k => k.Key.Id == keyId) is not { Entity: not null } found)
        {
            return KeyRevocation.NotFound;
        }
        if (found.Key.Role == KeyRoles.Admin && keys.Count(k => k.Key.Role == KeyRoles.Admin) <= 1)
        {
            return KeyRevocation.LastAdmin;
        }
        return (await _keys.DeleteEntityAsync(found.Entity.PartitionKey, Row, ETag.All, cancellationToken)).Status != 404
            ? KeyRevocation.Revoked
            : KeyRevocation.NotFound;
    }

    private static AccessKey ReadKey(TableEntity k)
    {
        var role = KeyRoles.Stored(OptStr(k, "Role"));
        return new AccessKey(Str(k, "KeyId"), Str(k, "OrganisationId"), Str(k, "Prefix"), role, Time(k, "CreatedAt"),
            KeyRoles.StoredFacilitator(k["Facilitator"] as bool?, role));
    }

    public async Task<Organisation?> FindOrganisationAsync(string id, CancellationToken cancellationToken) =>
        await _organisations.FindAsync(id, Row, cancellationToken) is { } o
            ? new Organisation(Str(o, "PartitionKey"), Str(o, "Name"), Bool(o, "IsOperator"), Time(o, "CreatedAt"))
            : null;

    public async Task<Organisation?> FindOperatorAsync(CancellationToken cancellationToken) =>
        (await _organisations.ListAsync(TableClient.CreateQueryFilter($"RowKey eq {Row} and IsOperator eq true"), null, cancellationToken))
            .Select(o => new Organisation(Str(o, "PartitionKey"), Str(o, "Name"), Bool(o, "IsOperator"), Time(o, "CreatedAt")))
            .OrderBy(o => o.CreatedAt).ThenBy(o => o.Id, StringComparer.Ordinal).FirstOrDefault();

    public async Task<(AccessKey Key, Organisation Organisation)?> FindByKeyHashAsync(string keyHash, CancellationToken cancellationToken)
    {
        if (await _keys.FindAsync(keyHash, Row, cancellationToken) is not { } k
            || await _organisations.FindAsync(Str(k, "OrganisationId"), Row, cancellationToken) is not { } o)
        {
            return null;
        }
        return (ReadKey(k),
            new Organisation(Str(o, "PartitionKey"), Str(o, "Name"), Bool(o, "IsOperator"), Time(o, "CreatedAt")));
    }
}
