using System.Security.Cryptography;
using X402Serverless.AzureStorage;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Transfers;
using X402Serverless.Sqlite;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Stores;

/// <summary>What every ITransferClaimStore adapter must do: one claim wins, a consumed hash never comes back, a lease lets go.</summary>
public abstract class TransferClaimStoreContract
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    protected abstract Task<ITransferClaimStore> StoreAsync();

    private static string NewHash() => "0x" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    private static TransferClaim Claim(string hash, string link = "lnk_a", DateTimeOffset? lease = null) => new()
    {
        TxHash = hash,
        Owner = Guid.NewGuid().ToString("N"),
        LinkId = link,
        LeaseUntil = lease ?? Now.AddMinutes(1),
    };

    [Fact]
    public async Task A_claim_wins_once_and_a_second_is_told_the_hash_is_held()
    {
        var store = await StoreAsync();
        var hash = NewHash();
        var first = Claim(hash);
        Assert.Equal(TransferClaimOutcome.Claimed, await store.ClaimAsync(first, Now, default));
        Assert.Equal(TransferClaimOutcome.Held, await store.ClaimAsync(Claim(hash, "lnk_b"), Now, default));
        var read = await store.GetAsync(hash, default);
        Assert.Equal(first.Owner, read!.Owner);
        Assert.Equal("lnk_a", read.LinkId);
        Assert.False(read.Consumed);
    }

    [Fact]
    public async Task A_consumed_hash_is_never_claimed_again_not_even_after_its_lease()
    {
        var store = await StoreAsync();
        var hash = NewHash();
        var claim = Claim(hash);
        await store.ClaimAsync(claim, Now, default);
        Assert.True(await store.ConsumeAsync(hash, claim.Owner, "pay_1", default));
        Assert.False(await store.ConsumeAsync(hash, claim.Owner, "pay_2", default));

        Assert.Equal(TransferClaimOutcome.Consumed, await store.ClaimAsync(Claim(hash), Now.AddYears(1), default));
        await store.ReleaseAsync(hash, claim.Owner, default);
        var read = await store.GetAsync(hash, default);
        Assert.True(read!.Consumed);
        Assert.Equal("pay_1", read.PaymentId);
    }

    [Fact]
    public async Task Only_the_owner_consumes_or_releases_and_a_released_hash_is_free_again()
    {
        var store = await StoreAsync();
        var hash = NewHash();
        var claim = Claim(hash);
        await store.ClaimAsync(claim, Now, default);
        Assert.False(await store.ConsumeAsync(hash, "someone-else", "pay_x", default));
        await store.ReleaseAsync(hash, "someone-else", default);
        Assert.NotNull(await store.GetAsync(hash, default));

        await store.ReleaseAsync(hash, claim.Owner, default);
        Assert.Null(await store.GetAsync(hash, default));
        Assert.Equal(TransferClaimOutcome.Claimed, await store.ClaimAsync(Claim(hash), Now, default));
    }

    [Fact]
    public async Task A_claim_whose_lease_ended_is_taken_over_once_and_its_old_owner_can_no_longer_consume()
    {
        var store = await StoreAsync();
        var hash = NewHash();
        var crashed = Claim(hash, lease: Now.AddMinutes(1));
        await store.ClaimAsync(crashed, Now, default);
        Assert.Equal(TransferClaimOutcome.Held, await store.ClaimAsync(Claim(hash), Now.AddSeconds(59), default));

        var later = Now.AddMinutes(1);
        var claims = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => store.ClaimAsync(Claim(hash, lease: later.AddMinutes(1)), later, default))));
        Assert.Single(claims, c => c == TransferClaimOutcome.Claimed);
        Assert.All(claims.Where(c => c != TransferClaimOutcome.Claimed), c => Assert.Equal(TransferClaimOutcome.Held, c));

        Assert.False(await store.ConsumeAsync(hash, crashed.Owner, "pay_old", default));
        await store.ReleaseAsync(hash, crashed.Owner, default);
        Assert.NotEqual(crashed.Owner, (await store.GetAsync(hash, default))!.Owner);
    }

    [Fact]
    public async Task Fifty_concurrent_claims_of_a_new_hash_let_exactly_one_win()
    {
        var store = await StoreAsync();
        var hash = NewHash();
        var claims = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(() => store.ClaimAsync(Claim(hash, i % 2 == 0 ? "lnk_a" : "lnk_b"), Now, default))));
        Assert.Single(claims, c => c == TransferClaimOutcome.Claimed);
        Assert.Equal(49, claims.Count(c => c == TransferClaimOutcome.Held));
    }

    [Fact]
    public async Task Hashes_are_independent()
    {
        var store = await StoreAsync();
        var a = Claim(NewHash());
        await store.ClaimAsync(a, Now, default);
        await store.ConsumeAsync(a.TxHash, a.Owner, "pay_a", default);
        Assert.Equal(TransferClaimOutcome.Claimed, await store.ClaimAsync(Claim(NewHash()), Now, default));
    }
}

public sealed class SqliteTransferClaimStoreTests : TransferClaimStoreContract
{
    protected override Task<ITransferClaimStore> StoreAsync() =>
        Task.FromResult<ITransferClaimStore>(new SqliteTransferClaimStore(new SqliteDatabase(Path.Combine(Path.GetTempPath(), "x402-contract-" + Guid.NewGuid().ToString("N"), "x402.db"))));
}

public sealed class TableTransferClaimStoreTests(AzuriteFixture azurite) : TransferClaimStoreContract, IClassFixture<AzuriteFixture>
{
    protected override async Task<ITransferClaimStore> StoreAsync()
    {
        var store = new TableTransferClaimStore(azurite.Tables, AzuriteFixture.UniqueTable("txclaims"));
        await store.InitializeAsync(default);
        return store;
    }
}
