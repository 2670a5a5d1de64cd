using Azure;
using Azure.Data.Tables;
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
public sealed class TablePayerStore(TableServiceClient service, string payersTable = "payers", string keysTable = "payerkeys", string budgetsTable = "budgets") : IPayerStore
{
    private const string Row = "item";
    private readonly TableClient _payers = service.GetTableClient(payersTable);
    private readonly TableClient _keys = service.GetTableClient(keysTable);
    private readonly TableClient _budgets = service.GetTableClient(budgetsTable);

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _payers.CreateIfNotExistsAsync(cancellationToken);
        await _keys.CreateIfNotExistsAsync(cancellationToken);
        await _budgets.CreateIfNotExistsAsync(cancellationToken);
    }

    public async Task CreateAsync(Payer payer, PayerKey key, string keyHash, CancellationToken cancellationToken)
    {
        await _payers.AddEntityAsync(ToEntity(payer), cancellationToken);
        await AddKeyAsync(key, keyHash, cancellationToken);
    }

    public async Task AddKeyAsync(PayerKey key, string keyHash, CancellationToken cancellationToken) =>
        await _keys.AddEntityAsync(new TableEntity(keyHash, Row)
        {
            ["KeyId"] = key.Id, ["PayerId"] = key.PayerId, ["Prefix"] = key.Prefix, ["CreatedAt"] = Time(key.CreatedAt),
        }, cancellationToken);

    // Listing and revoking are management calls, rare next to the per-call lookup by hash the partitioning serves.
    public async Task<IReadOnlyList<PayerKey>> ListKeysAsync(string payerId, CancellationToken cancellationToken) =>
        (await KeyEntitiesAsync(payerId, cancellationToken))
            .Select(e => new PayerKey(Str(e, "KeyId"), payerId, OptStr(e, "Prefix") ?? "x402pk_", !e.ContainsKey("CreatedAt") ? DateTimeOffset.UnixEpoch : Time(e, "CreatedAt")))
            .OrderBy(k => k.CreatedAt).ThenBy(k => k.Id, StringComparer.Ordinal).ToList();

    public async Task<bool> RevokeKeyAsync(string payerId, string keyId, CancellationToken cancellationToken)
    {
        var entity = (await KeyEntitiesAsync(payerId, cancellationToken)).FirstOrDefault(e => Str(e, "KeyId") == keyId);
        return entity is not null && (await _keys.DeleteEntityAsync(entity.PartitionKey, Row, ETag.All, cancellationToken)).Status != 404;
    }

    private Task<List<TableEntity>> KeyEntitiesAsync(string payerId, CancellationToken cancellationToken) =>
        _keys.ListAsync(TableClient.CreateQueryFilter($"PayerId eq {payerId}"), null, cancellationToken);

    public async Task<Payer?> FindByKeyHashAsync(string keyHash, CancellationToken cancellationToken) =>
        await _keys.FindAsync(keyHash, Row, cancellationToken) is { } key ? await GetAsync(Str(key, "PayerId"), cancellationToken) : null;

    public async Task<Payer?> GetAsync(string id, CancellationToken cancellationToken) =>
        await _payers.FindAsync(id, Row, cancellationToken) is { } found ? FromEntity(found) : null;

    public async Task<IReadOnlyList<Payer>> ListAsync(string organisationId, CancellationToken cancellationToken) =>
        (await _payers.ListAsync(TableClient.CreateQueryFilter($"OrganisationId eq {organisationId}"), null, cancellationToken))
            .Select(FromEntity).OrderBy(p => p.CreatedAt).ThenBy(p => p.Id, StringComparer.Ordinal).ToList();

    public async Task<bool> UpdateAsync(Payer payer, CancellationToken cancellationToken)
    {
        if (await _payers.FindAsync(payer.Id, Row, cancellationToken) is not { } current || Str(current, "OrganisationId") != payer.OrganisationId)
        {
            return false;
        }
        try
        {
            await _payers.UpdateEntityAsync(ToEntity(payer), current.ETag, TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.IsPreconditionFailed())
        {
            return false;
        }
    }

    public async Task<IReadOnlyList<string>> OrganisationsWithAllowancesAsync(CancellationToken cancellationToken) =>
        (await _payers.ListAsync(TableClient.CreateQueryFilter($"HasAllowance eq {true}"), null, cancellationToken))
            .Select(e => Str(e, "OrganisationId")).Distinct().Order(StringComparer.Ordinal).ToList();

    public async Task<Usd?> MonthlyBudgetAsync(string organisationId, CancellationToken cancellationToken) =>
        await _budgets.FindAsync(organisationId, Row, cancellationToken) is { } found && OptLong(found, "MonthlyBudget") is { } micros ? Usd.FromMicros(micros) : null;

    public async Task SetMonthlyBudgetAsync(string organisationId, Usd? budget, CancellationToken cancellationToken) =>
        await _budgets.UpsertEntityAsync(new TableEntity(organisationId, Row) { ["MonthlyBudget"] = Long(budget?.Micros) }, TableUpdateMode.Replace, cancellationToken);

    private static TableEntity ToEntity(Payer p) => new(p.Id, Row)
    {
        ["OrganisationId"] = p.OrganisationId,
        ["Name"] = p.Name,
        ["MonthlyAllowance"] = Long(p.MonthlyAllowance.Micros),
        ["HasAllowance"] = p.MonthlyAllowance.IsPositive,
        ["MonthlyCap"] = Long(p.MonthlyCap?.Micros),
        ["CreditLimit"] = Long(p.CreditLimit.Micros),
        ["CreatedAt"] = Time(p.CreatedAt),
    };

    private static Payer FromEntity(TableEntity e) => new()
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
