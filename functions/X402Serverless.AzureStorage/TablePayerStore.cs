using System.Text.Json.Nodes;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Payers;
using X402Serverless.Core.Ports;
using static X402Serverless.AzureStorage.Tables.EntityFields;
using X402Serverless.Core.Money;

namespace X402Serverless.AzureStorage;

/// <summary>
/// Payers (partition = payer id), payer keys (partition = key hash: one point read per credit-paid call) and
/// organisation budgets (partition = organisation id).
/// </summary>
public sealed class TablePayerStore(TableClient tables, string payersTable = "payers", string keysTable = "payerkeys", string budgetsTable = "budgets") : IPayerStore
{
    private const string Row = "item";

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await tables.CreateTableIfMissingAsync(payersTable, cancellationToken);
        await tables.CreateTableIfMissingAsync(keysTable, cancellationToken);
        await tables.CreateTableIfMissingAsync(budgetsTable, cancellationToken);
    }

    public async Task CreateAsync(Payer payer, PayerKey key, string keyHash, CancellationToken cancellationToken)
    {
        await tables.InsertAsync(payersTable, ToEntity(payer), cancellationToken);
        await AddKeyAsync(key, keyHash, cancellationToken);
    }

    public async Task AddKeyAsync(PayerKey key, string keyHash, CancellationToken cancellationToken) =>
        await tables.InsertAsync(keysTable, new JsonObject
        {
            ["PartitionKey"] = keyHash, ["RowKey"] = Row, ["KeyId"] = key.Id, ["PayerId"] = key.PayerId, ["Prefix"] = key.Prefix, ["CreatedAt"] = Time(key.CreatedAt),
        }, cancellationToken);

    // Listing and revoking are management calls, rare next to the per-call lookup by hash the partitioning serves.
    public async Task<IReadOnlyList<PayerKey>> ListKeysAsync(string payerId, CancellationToken cancellationToken) =>
        (await KeyEntitiesAsync(payerId, cancellationToken))
            .Select(e => new PayerKey(Str(e, "KeyId"), payerId, OptStr(e, "Prefix") ?? "x402pk_", e["CreatedAt"] is null ? DateTimeOffset.UnixEpoch : Time(e, "CreatedAt")))
            .OrderBy(k => k.CreatedAt).ThenBy(k => k.Id, StringComparer.Ordinal).ToList();

    public async Task<bool> RevokeKeyAsync(string payerId, string keyId, CancellationToken cancellationToken)
    {
        var entity = (await KeyEntitiesAsync(payerId, cancellationToken)).FirstOrDefault(e => Str(e, "KeyId") == keyId);
        return entity is not null && await tables.DeleteAsync(keysTable, Str(entity, "PartitionKey"), Row, "*", cancellationToken);
    }

    private Task<List<JsonObject>> KeyEntitiesAsync(string payerId, CancellationToken cancellationToken) =>
        tables.QueryAsync(keysTable, $"PayerId eq {TableClient.Literal(payerId)}", null, cancellationToken);

    public async Task<Payer?> FindByKeyHashAsync(string keyHash, CancellationToken cancellationToken) =>
        await tables.GetAsync(keysTable, keyHash, Row, cancellationToken) is { } key ? await GetAsync(Str(key.Entity, "PayerId"), cancellationToken) : null;

    public async Task<Payer?> GetAsync(string id, CancellationToken cancellationToken) =>
        await tables.GetAsync(payersTable, id, Row, cancellationToken) is { } found ? FromEntity(found.Entity) : null;

    public async Task<IReadOnlyList<Payer>> ListAsync(string organisationId, CancellationToken cancellationToken) =>
        (await tables.QueryAsync(payersTable, $"OrganisationId eq {TableClient.Literal(organisationId)}", null, cancellationToken))
            .Select(FromEntity).OrderBy(p => p.CreatedAt).ThenBy(p => p.Id, StringComparer.Ordinal).ToList();

    public async Task<bool> UpdateAsync(Payer payer, CancellationToken cancellationToken)
    {
        if (await tables.GetAsync(payersTable, payer.Id, Row, cancellationToken) is not { } current || Str(current.Entity, "OrganisationId") != payer.OrganisationId)
        {
            return false;
        }
        try
        {
            await tables.ReplaceAsync(payersTable, ToEntity(payer), current.ETag, cancellationToken);
            return true;
        }
        catch (TableException e) when (e.IsPreconditionFailed)
        {
            return false;
        }
    }

    public async Task<IReadOnlyList<string>> OrganisationsWithAllowancesAsync(CancellationToken cancellationToken) =>
        (await tables.QueryAsync(payersTable, "HasAllowance eq true", null, cancellationToken))
            .Select(e => Str(e, "OrganisationId")).Distinct().Order(StringComparer.Ordinal).ToList();

    public async Task<Usd?> MonthlyBudgetAsync(string organisationId, CancellationToken cancellationToken) =>
        await tables.GetAsync(budgetsTable, organisationId, Row, cancellationToken) is { } found && OptLong(found.Entity, "MonthlyBudget") is { } micros ? Usd.FromMicros(micros) : null;

    public async Task SetMonthlyBudgetAsync(string organisationId, Usd? budget, CancellationToken cancellationToken) =>
        await tables.UpsertAsync(budgetsTable, new JsonObject { ["PartitionKey"] = organisationId, ["RowKey"] = Row, ["MonthlyBudget"] = Long(budget?.Micros) }, cancellationToken);

    private static JsonObject ToEntity(Payer p) => new()
    {
        ["PartitionKey"] = p.Id,
        ["RowKey"] = Row,
        ["OrganisationId"] = p.OrganisationId,
        ["Name"] = p.Name,
        ["MonthlyAllowance"] = Long(p.MonthlyAllowance.Micros),
        ["HasAllowance"] = p.MonthlyAllowance.IsPositive,
        ["MonthlyCap"] = Long(p.MonthlyCap?.Micros),
        ["CreditLimit"] = Long(p.CreditLimit.Micros),
        ["CreatedAt"] = Time(p.CreatedAt),
    };

    private static Payer FromEntity(JsonObject e) => new()
    {
        Id = Str(e, "PartitionKey"),
        OrganisationId = Str(e, "OrganisationId"),
        Name = Str(e, "Name"),
        MonthlyAllowance = Usd.FromMicros(OptLong(e, "MonthlyAllowance") ?? 0),
        MonthlyCap = OptLong(e, "MonthlyCap") is { } cap ? Usd.FromMicros(cap) : null,
        CreditLimit = Usd.FromMicros(OptLong(e, "CreditLimit") ?? 0),
        CreatedAt = Time(e, "CreatedAt"),
    };
}
