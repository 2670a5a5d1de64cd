using X402Serverless.Core.Access;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Payers;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Signup;
using X402Serverless.Handler.Payers;

namespace X402Serverless.Handler.Signup;

/// <summary>
/// The account a verified wallet owns: made on its first sign-in, given one more key on every later one (the wallet is
/// the account's recovery: a lost key is replaced by signing in again, and old keys are revoked with the new one).
/// The wallet is bound before the account is written, so concurrent first sign-ins of one wallet make one account.
/// </summary>
internal sealed class SignupAccounts(ISignupStore store, IAccessStore access, IPayerStore payers, TimeProvider time)
{
    /// <summary>A binding whose account is still missing after this long was left by a sign-up that died half-way; it is taken over.</summary>
    private static readonly TimeSpan Unfinished = TimeSpan.FromMinutes(2);

    public async Task<SignupResult> ProviderAsync(EvmAddress wallet, string? name, CancellationToken cancellationToken) =>
        await SignInAsync(WalletBinding.Provider, wallet, "org",
            async id => await access.FindOrganisationAsync(id, cancellationToken) is not null,
            async id =>
            {
                var key = ManagementKeys.NewKey();
                var now = time.GetUtcNow();
                var record = new AccessKey(ManagementKeys.NewId("key"), id, ManagementKeys.DisplayPrefix(key), AccessKey.AdminRole, now);
                await access.CreateOrganisationAsync(new Organisation(id, name ?? wallet.ToString(), IsOperator: false, now), record, ManagementKeys.Hash(key), cancellationToken);
                return (record.Id, key);
            },
            async id =>
            {
                var key = ManagementKeys.NewKey();
                var record = new AccessKey(ManagementKeys.NewId("key"), id, ManagementKeys.DisplayPrefix(key), AccessKey.AdminRole, time.GetUtcNow());
                await access.AddKeyAsync(record, ManagementKeys.Hash(key), cancellationToken);
                return (record.Id, key);
            },
            cancellationToken);

    /// <summary>A payer of the operator organisation: the marketplace's own customer, with no allowance until one is granted.</summary>
    public async Task<SignupResult> PayerAsync(EvmAddress wallet, string? name, string operatorId, CancellationToken cancellationToken) =>
        await SignInAsync(WalletBinding.Payer, wallet, "payer",
            async id => await payers.GetAsync(id, cancellationToken) is not null,
            async id =>
            {
                var payer = new Payer { Id = id, OrganisationId = operatorId, Name = name ?? wallet.ToString(), CreatedAt = time.GetUtcNow() };
                var issued = PayerKeys.Issue(id, payer.CreatedAt);
                await payers.CreateAsync(payer, issued.Record, issued.Hash, cancellationToken);
                return (issued.Record.Id, issued.Key);
            },
            async id =>
            {
                var issued = PayerKeys.Issue(id, time.GetUtcNow());
                await payers.AddKeyAsync(issued.Record, issued.Hash, cancellationToken);
                return (issued.Record.Id, issued.Key);
            },
            cancellationToken);

    private async Task<SignupResult> SignInAsync(
        string role,
        EvmAddress wallet,
        string idKind,
        Func<string, Task<bool>> exists,
        Func<string, Task<(string KeyId, string Key)>> create,
        Func<string, Task<(string KeyId, string Key)>> addKey,
        CancellationToken cancellationToken)
    {
        var address = wallet.ToLowerHex();
        var now = time.GetUtcNow();
        string? replacing = null;
        if (await store.FindWalletAsync(role, address, cancellationToken) is { } bound)
        {
            if (await exists(bound.AccountId))
            {
                return SignupResult.Existing(bound.AccountId, await addKey(bound.AccountId));
            }
            if (now - bound.CreatedAt < Unfinished)
            {
                return SignupResult.InProgress;
            }
            replacing = bound.AccountId;
        }
        var claim = new WalletBinding(role, address, ManagementKeys.NewId(idKind), now);
        var won = await store.BindWalletAsync(claim, replacing, cancellationToken);
        if (won.AccountId == claim.AccountId)
        {
            return SignupResult.Created(claim.AccountId, await create(claim.AccountId));
        }
        return await exists(won.AccountId) ? SignupResult.Existing(won.AccountId, await addKey(won.AccountId)) : SignupResult.InProgress;
    }
}

/// <summary>What a sign-in made: a new account, a key for the existing one, or nothing while another sign-in of the wallet finishes.</summary>
internal sealed record SignupResult(string? AccountId, string? KeyId, string? Key, bool IsNew)
{
    public static readonly SignupResult InProgress = new(null, null, null, false);

    public static SignupResult Created(string accountId, (string KeyId, string Key) key) => new(accountId, key.KeyId, key.Key, true);

    public static SignupResult Existing(string accountId, (string KeyId, string Key) key) => new(accountId, key.KeyId, key.Key, false);
}
