using System.Text.Json.Nodes;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Access;
using X402Serverless.Core.Ports;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

/// <summary>
/// Organisations (partition = organisation id) and management keys (partition = key hash, so authenticating a request
/// is one point read). An organisation is written before its first key, so a crash leaves at worst a keyless organisation.
/// </summary>
public sealed class TableAccessStore(TableClient tables, string organisationsTable = "organisations", string keysTable = "accesskeys") : IAccessStore
{
    private const string Row = "item";

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await tables.CreateTableIfMissingAsync(organisationsTable, cancellationToken);
        await tables.CreateTableIfMissingAsync(keysTable, cancellationToken);
    }

    public async Task<int> CountOrganisationsAsync(CancellationToken cancellationToken) =>
        (await tables.QueryAsync(organisationsTable, $"RowKey eq {TableClient.Literal(Row)}", null, cancellationToken)).Count;

    public async Task CreateOrganisationAsync(Organisation organisation, AccessKey firstKey, string keyHash, CancellationToken cancellationToken)
    {
        await tables.InsertAsync(organisationsTable, new JsonObject
        {
            ["PartitionKey"] = organisation.Id,
            ["RowKey"] = Row,
            ["Name"] = organisation.Name,
            ["IsOperator"] = organisation.IsOperator,
            ["CreatedAt"] = Time(organisation.CreatedAt),
        }, cancellationToken);
        await AddKeyAsync(firstKey, keyHash, cancellationToken);
    }

    public async Task AddKeyAsync(AccessKey key, string keyHash, CancellationToken cancellationToken) =>
        await tables.InsertAsync(keysTable, new JsonObject
        {
            ["PartitionKey"] = keyHash,
            ["RowKey"] = Row,
            ["KeyId"] = key.Id,
            ["OrganisationId"] = key.OrganisationId,
            ["Prefix"] = key.Prefix,
            ["Role"] = key.Role,
            ["CreatedAt"] = Time(key.CreatedAt),
        }, cancellationToken);

    public async Task<IReadOnlyList<AccessKey>> ListKeysAsync(string organisationId, CancellationToken cancellationToken) =>
        (await tables.QueryAsync(keysTable, $"OrganisationId eq {TableClient.Literal(organisationId)}", null, cancellationToken))
            .Select(k => new AccessKey(Str(k, "KeyId"), Str(k, "OrganisationId"), Str(k, "Prefix"), Str(k, "Role"), Time(k, "CreatedAt")))
            .OrderBy(k => k.CreatedAt).ThenBy(k => k.Id, StringComparer.Ordinal).ToList();

    public async Task<bool> RevokeKeyAsync(string organisationId, string keyId, CancellationToken cancellationToken)
    {
        var found = await tables.QueryAsync(keysTable,
            $"OrganisationId eq {TableClient.Literal(organisationId)} and KeyId eq {TableClient.Literal(keyId)}", 1, cancellationToken);
        return found.Count == 1 && await tables.DeleteAsync(keysTable, Str(found[0], "PartitionKey"), Row, "*", cancellationToken);
    }

    public async Task<(AccessKey Key, Organisation Organisation)?> FindByKeyHashAsync(string keyHash, CancellationToken cancellationToken)
    {
        if (await tables.GetAsync(keysTable, keyHash, Row, cancellationToken) is not { } keyEntity)
        {
            return null;
        }
        var k = keyEntity.Entity;
        if (await tables.GetAsync(organisationsTable, Str(k, "OrganisationId"), Row, cancellationToken) is not { } orgEntity)
        {
            return null;
        }
        var o = orgEntity.Entity;
        return (new AccessKey(Str(k, "KeyId"), Str(k, "OrganisationId"), Str(k, "Prefix"), Str(k, "Role"), Time(k, "CreatedAt")),
            new Organisation(Str(o, "PartitionKey"), Str(o, "Name"), Bool(o, "IsOperator"), Time(o, "CreatedAt")));
    }
}
