using X402Serverless.AzureStorage;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Signup;
using X402Serverless.Sqlite;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Stores;

/// <summary>What every ISignupStore adapter must do: nonces used once even under concurrency, one binding per wallet and role.</summary>
public abstract class SignupStoreContract
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    protected abstract Task<ISignupStore> StoreAsync();

    private static string NewNonce() => Guid.NewGuid().ToString("N");

    private static string NewWallet() => "0x" + Guid.NewGuid().ToString("N") + "00000000";

    [Fact]
    public async Task A_nonce_is_used_once_then_refused_and_an_unknown_one_is_unknown()
    {
        var store = await StoreAsync();
        var nonce = NewNonce();
        await store.AddNonceAsync(nonce, Now.AddMinutes(10), default);

        Assert.Equal(NonceUse.Used, await store.UseNonceAsync(nonce, Now, default));
        Assert.Equal(NonceUse.AlreadyUsed, await store.UseNonceAsync(nonce, Now.AddSeconds(1), default));
        Assert.Equal(NonceUse.Unknown, await store.UseNonceAsync(NewNonce(), Now, default));
    }

    [Fact]
    public async Task Fifty_concurrent_uses_of_one_nonce_let_exactly_one_through()
    {
        var store = await StoreAsync();
        var nonce = NewNonce();
        await store.AddNonceAsync(nonce, Now.AddMinutes(10), default);

        var uses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(() => store.UseNonceAsync(nonce, Now, default))));

        Assert.Equal(1, uses.Count(u => u == NonceUse.Used));
        Assert.All(uses.Where(u => u != NonceUse.Used), u => Assert.Equal(NonceUse.AlreadyUsed, u));
    }

    [Fact]
    public async Task An_expired_nonce_is_refused_and_removed_and_a_sweep_deletes_only_expired_ones()
    {
        var store = await StoreAsync();
        var expiring = NewNonce();
        await store.AddNonceAsync(expiring, Now.AddMinutes(1), default);
        Assert.Equal(NonceUse.Expired, await store.UseNonceAsync(expiring, Now.AddMinutes(1), default));
        Assert.Equal(NonceUse.Unknown, await store.UseNonceAsync(expiring, Now.AddMinutes(1), default));

        var old = NewNonce();
        var usedOld = NewNonce();
        var fresh = NewNonce();
        await store.AddNonceAsync(old, Now.AddMinutes(1), default);
        await store.AddNonceAsync(usedOld, Now.AddMinutes(2), default);
        await store.AddNonceAsync(fresh, Now.AddMinutes(30), default);
        Assert.Equal(NonceUse.Used, await store.UseNonceAsync(usedOld, Now, default));

        Assert.True(await store.DeleteExpiredNoncesAsync(Now.AddMinutes(5), 1000, default) >= 2);
        Assert.Equal(NonceUse.Unknown, await store.UseNonceAsync(old, Now, default));
        Assert.Equal(NonceUse.Unknown, await store.UseNonceAsync(usedOld, Now, default));
        Assert.Equal(NonceUse.Used, await store.UseNonceAsync(fresh, Now.AddMinutes(5), default));
    }

    [Fact]
    public async Task A_wallet_binds_once_per_role_and_concurrent_binds_agree_on_one_account()
    {
        var store = await StoreAsync();
        var wallet = NewWallet();
        Assert.Null(await store.FindWalletAsync(WalletBinding.Provider, wallet, default));

        var claims = Enumerable.Range(0, 20).Select(i => new WalletBinding(WalletBinding.Provider, wallet, $"org_{i}_{wallet[2..10]}", Now)).ToList();
        var results = await Task.WhenAll(claims.Select(c => Task.Run(() => store.BindWalletAsync(c, null, default))));

        var winner = Assert.Single(results.Select(r => r.AccountId).Distinct());
        Assert.Contains(claims, c => c.AccountId == winner);
        Assert.Equal(winner, (await store.FindWalletAsync(WalletBinding.Provider, wallet, default))!.AccountId);
        // The same wallet is free in the other role.
        Assert.Equal("payer_x", (await store.BindWalletAsync(new WalletBinding(WalletBinding.Payer, wallet, "payer_x", Now), null, default)).AccountId);
        Assert.Equal(winner, (await store.FindWalletAsync(WalletBinding.Provider, wallet, default))!.AccountId);
    }

    [Fact]
    public async Task A_binding_is_replaced_only_from_the_account_named()
    {
        var store = await StoreAsync();
        var wallet = NewWallet();
        await store.BindWalletAsync(new WalletBinding(WalletBinding.Payer, wallet, "payer_dead", Now), null, default);

        var kept = await store.BindWalletAsync(new WalletBinding(WalletBinding.Payer, wallet, "payer_b", Now.AddMinutes(5)), "payer_other", default);
        Assert.Equal("payer_dead", kept.AccountId);

        var replaced = await store.BindWalletAsync(new WalletBinding(WalletBinding.Payer, wallet, "payer_c", Now.AddMinutes(5)), "payer_dead", default);
        Assert.Equal(new WalletBinding(WalletBinding.Payer, wallet, "payer_c", Now.AddMinutes(5)), replaced);
        Assert.Equal(replaced, await store.FindWalletAsync(WalletBinding.Payer, wallet, default));
    }
}

public sealed class SqliteSignupStoreTests : SignupStoreContract
{
    protected override Task<ISignupStore> StoreAsync() =>
        Task.FromResult<ISignupStore>(new SqliteSignupStore(new SqliteDatabase(Path.Combine(Path.GetTempPath(), "x402-contract-" + Guid.NewGuid().ToString("N"), "x402.db"))));
}

public sealed class TableSignupStoreTests(AzuriteFixture azurite) : SignupStoreContract, IClassFixture<AzuriteFixture>
{
    protected override async Task<ISignupStore> StoreAsync()
    {
        var store = new TableSignupStore(azurite.Tables, AzuriteFixture.UniqueTable("nonces"), AzuriteFixture.UniqueTable("wallets"));
        await store.InitializeAsync(default);
        return store;
    }
}
