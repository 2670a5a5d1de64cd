using Azure;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Signup;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

/// <summary>
/// Sign-up nonces (partition = nonce) and wallet bindings (partition = role|wallet). A nonce is used by an ETag-checked
/// update and a binding made by an insert, so of concurrent callers exactly one wins either way.
/// </summary>
public sealed class TableSignupStore(TableServiceClient service, string noncesTable = "signupnonces", string walletsTable = "walletbindings") : ISignupStore
{
    private const string Row = "item";
    private readonly TableClient _nonces = service.GetTableClient(noncesTable);
    private readonly TableClient _wallets = service.GetTableClient(walletsTable);

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _nonces.CreateIfNotExistsAsync(cancellationToken);
        await _wallets.CreateIfNotExistsAsync(cancellationToken);
    }

    public async Task AddNonceAsync(string nonce, DateTimeOffset expiresAt, CancellationToken cancellationToken) =>
        await _nonces.AddEntityAsync(new TableEntity(nonce, Row) { ["ExpiresAt"] = expiresAt.ToUniversalTime(), ["Used"] = false }, cancellationToken);

    public async Task<NonceUse> UseNonceAsync(string nonce, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (await _nonces.FindAsync(nonce, Row, cancellationToken) is not { } entity)
        {
            return NonceUse.Unknown;
        }
        if (entity.GetDateTimeOffset("ExpiresAt") is not { } expires || expires <= now)
        {
            await _nonces.DeleteEntityAsync(nonce, Row, ETag.All, cancellationToken);
            return NonceUse.Expired;
        }
        if (Bool(entity, "Used"))
        {
            return NonceUse.AlreadyUsed;
        }
        try
        {
            await _nonces.UpdateEntityAsync(new TableEntity(nonce, Row) { ["Used"] = true }, entity.ETag, TableUpdateMode.Merge, cancellationToken);
            return NonceUse.Used;
        }
        catch (RequestFailedException e) when (e.IsPreconditionFailed())
        {
            return NonceUse.AlreadyUsed;
        }
        catch (RequestFailedException e) when (e.IsNotFound())
        {
            return NonceUse.Unknown;
        }
    }

    public async Task<int> DeleteExpiredNoncesAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        var expired = await _nonces.ListAsync(TableClient.CreateQueryFilter($"ExpiresAt le {now.ToUniversalTime()}"), max, cancellationToken);
        var deleted = 0;
        foreach (var entity in expired)
        {
            if ((await _nonces.DeleteEntityAsync(entity.PartitionKey, Row, ETag.All, cancellationToken)).Status != 404)
            {
                deleted++;
            }
        }
        return deleted;
    }

    public async Task<WalletBinding?> FindWalletAsync(string role, string wallet, CancellationToken cancellationToken) =>
        await _wallets.FindAsync(Key(role, wallet), Row, cancellationToken) is { } e ? Binding(role, wallet, e) : null;

    public async Task<WalletBinding> BindWalletAsync(WalletBinding binding, string? replacing, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(Key(binding.Role, binding.Wallet), Row)
        {
            ["AccountId"] = binding.AccountId,
            ["CreatedAt"] = Time(binding.CreatedAt),
        };
        try
        {
            await _wallets.AddEntityAsync(entity, cancellationToken);
            return binding;
        }
        catch (RequestFailedException e) when (e.IsConflict())
        {
        }
        var existing = await _wallets.FindAsync(entity.PartitionKey, Row, cancellationToken)
            ?? throw new InvalidOperationException("A wallet binding conflicted but cannot be read.");
        if (replacing is null || Str(existing, "AccountId") != replacing)
        {
            return Binding(binding.Role, binding.Wallet, existing);
        }
        try
        {
            await _wallets.UpdateEntityAsync(entity, existing.ETag, TableUpdateMode.Replace, cancellationToken);
            return binding;
        }
        catch (RequestFailedException e) when (e.IsPreconditionFailed())
        {
            return await FindWalletAsync(binding.Role, binding.Wallet, cancellationToken)
                ?? throw new InvalidOperationException("A wallet binding changed but cannot be read.");
        }
    }

    private static string Key(string role, string wallet) => role + "|" + wallet;

    private static WalletBinding Binding(string role, string wallet, TableEntity e) => new(role, wallet, Str(e, "AccountId"), Time(e, "CreatedAt"));
}
