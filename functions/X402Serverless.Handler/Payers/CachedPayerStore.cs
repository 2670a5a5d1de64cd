using System.Collections.Concurrent;
using X402Serverless.Core.Money;
using X402Serverless.Core.Payers;
using X402Serverless.Core.Ports;

namespace X402Serverless.Handler.Payers;

/// <summary>
/// Remembers which payer a key hash belongs to for a few seconds, so a credits-paid call does not read the store for
/// it every time. Used where this process is the only writer of payers and keys (the SQLite file): every change made
/// through it (a key revoked, a payer updated) empties the cache before it returns, so a revoked key is refused at
/// once, as <see cref="IPayerStore.RevokeKeyAsync"/> promises. Unknown keys are never cached (a new key works at once,
/// and made-up keys cannot fill memory).
/// </summary>
internal sealed class CachedPayerStore(IPayerStore inner, TimeProvider time) : IPayerStore
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(5);
    private const int MaxEntries = 10_000;

    private readonly ConcurrentDictionary<string, (Payer Payer, long Until)> _byKeyHash = new(StringComparer.Ordinal);

    // Bumped by every change: a lookup that started before a change does not cache what it read.
    private long _generation;

    public async Task<Payer?> FindByKeyHashAsync(string keyHash, CancellationToken cancellationToken)
    {
        var now = time.GetTimestamp();
        if (_byKeyHash.TryGetValue(keyHash, out var hit) && now < hit.Until)
        {
            return hit.Payer;
        }
        var generation = Interlocked.Read(ref _generation);
        var payer = await inner.FindByKeyHashAsync(keyHash, cancellationToken);
        if (payer is null)
        {
            _byKeyHash.TryRemove(keyHash, out _);
            return null;
        }
        if (_byKeyHash.Count >= MaxEntries)
        {
            _byKeyHash.Clear();
        }
        _byKeyHash[keyHash] = (payer, now + (long)(Lifetime.TotalSeconds * time.TimestampFrequency));
        if (Interlocked.Read(ref _generation) != generation)
        {
            // A change landed while the store was read: what was read may predate it.
            _byKeyHash.TryRemove(keyHash, out _);
        }
        return payer;
    }

    public async Task<bool> RevokeKeyAsync(string payerId, string keyId, CancellationToken cancellationToken)
    {
        try
        {
            return await inner.RevokeKeyAsync(payerId, keyId, cancellationToken);
        }
        finally
        {
            Invalidate();
        }
    }

    public async Task<bool> UpdateAsync(Payer payer, CancellationToken cancellationToken)
    {
        try
        {
            return await inner.UpdateAsync(payer, cancellationToken);
        }
        finally
        {
            Invalidate();
        }
    }

    private void Invalidate()
    {
        Interlocked.Increment(ref _generation);
        _byKeyHash.Clear();
    }

    public Task CreateAsync(Payer payer, PayerKey key, string keyHash, CancellationToken cancellationToken) =>
        inner.CreateAsync(payer, key, keyHash, cancellationToken);

    public Task AddKeyAsync(PayerKey key, string keyHash, CancellationToken cancellationToken) => inner.AddKeyAsync(key, keyHash, cancellationToken);

    public Task<IReadOnlyList<PayerKey>> ListKeysAsync(string payerId, CancellationToken cancellationToken) => inner.ListKeysAsync(payerId, cancellationToken);

    public Task<Payer?> GetAsync(string id, CancellationToken cancellationToken) => inner.GetAsync(id, cancellationToken);

    public Task<IReadOnlyList<Payer>> ListAsync(string organisationId, CancellationToken cancellationToken) => inner.ListAsync(organisationId, cancellationToken);

    public Task<IReadOnlyList<string>> OrganisationsWithAllowancesAsync(CancellationToken cancellationToken) =>
        inner.OrganisationsWithAllowancesAsync(cancellationToken);

    public Task<Usd?> MonthlyBudgetAsync(string organisationId, CancellationToken cancellationToken) => inner.MonthlyBudgetAsync(organisationId, cancellationToken);

    public Task SetMonthlyBudgetAsync(string organisationId, Usd? budget, CancellationToken cancellationToken) =>
        inner.SetMonthlyBudgetAsync(organisationId, budget, cancellationToken);
}
