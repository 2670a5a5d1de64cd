using Microsoft.Extensions.Time.Testing;
using X402Serverless.Core.Access;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Signup;
using X402Serverless.Handler.Signup;
using X402Serverless.Sqlite;

namespace X402Serverless.Tests.Signup;

/// <summary>A sign-up that died between binding the wallet and writing the account, on a real SQLite store.</summary>
public sealed class SignupAccountsTests
{
    [Fact]
    public async Task A_binding_left_without_its_account_waits_for_it_then_is_taken_over_after_two_minutes()
    {
        var database = new SqliteDatabase(Path.Combine(Path.GetTempPath(), "x402-signup-" + Guid.NewGuid().ToString("N"), "x402.db"));
        var store = new SqliteSignupStore(database);
        var access = new SqliteAccessStore(database);
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));
        var accounts = new SignupAccounts(store, access, new SqlitePayerStore(database), clock);
        var wallet = EvmAddress.Parse("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
        await store.BindWalletAsync(new WalletBinding(WalletBinding.Provider, wallet.ToLowerHex(), "org_died", clock.GetUtcNow()), null, default);

        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Same(SignupResult.InProgress, await accounts.ProviderAsync(wallet, null, default));

        clock.Advance(TimeSpan.FromMinutes(1));
        var taken = await accounts.ProviderAsync(wallet, "Back", default);
        Assert.True(taken.IsNew);
        Assert.NotEqual("org_died", taken.AccountId);
        Assert.Equal("Back", (await access.FindOrganisationAsync(taken.AccountId!, default))!.Name);
        Assert.Equal(taken.AccountId, (await access.FindByKeyHashAsync(ManagementKeys.Hash(taken.Key!), default))!.Value.Organisation.Id);
        Assert.Equal(taken.AccountId, (await store.FindWalletAsync(WalletBinding.Provider, wallet.ToLowerHex(), default))!.AccountId);

        var again = await accounts.ProviderAsync(wallet, null, default);
        Assert.False(again.IsNew);
        Assert.Equal(taken.AccountId, again.AccountId);
    }
}
