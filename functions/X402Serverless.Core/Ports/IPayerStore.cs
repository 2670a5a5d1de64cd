using X402Serverless.Core.Payers;
using X402Serverless.Core.Money;

namespace X402Serverless.Core.Ports;

/// <summary>Payer accounts and their API keys (stored hashed).</summary>
public interface IPayerStore
{
    Task CreateAsync(Payer payer, PayerKey key, string keyHash, CancellationToken cancellationToken);

    Task AddKeyAsync(PayerKey key, string keyHash, CancellationToken cancellationToken);

    Task<IReadOnlyList<PayerKey>> ListKeysAsync(string payerId, CancellationToken cancellationToken);

    /// <summary>Deletes one of the payer's keys, so it stops paying at once; false when the payer has no such key.</summary>
    Task<bool> RevokeKeyAsync(string payerId, string keyId, CancellationToken cancellationToken);

    Task<Payer?> FindByKeyHashAsync(string keyHash, CancellationToken cancellationToken);

    Task<Payer?> GetAsync(string id, CancellationToken cancellationToken);

    Task<IReadOnlyList<Payer>> ListAsync(string organisationId, CancellationToken cancellationToken);

    Task<bool> UpdateAsync(Payer payer, CancellationToken cancellationToken);

    /// <summary>Every organisation that has members with an allowance, with its budget.</summary>
    Task<IReadOnlyList<string>> OrganisationsWithAllowancesAsync(CancellationToken cancellationToken);

    Task<Usd?> MonthlyBudgetAsync(string organisationId, CancellationToken cancellationToken);

    Task SetMonthlyBudgetAsync(string organisationId, Usd? budget, CancellationToken cancellationToken);
}
