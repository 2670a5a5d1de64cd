using X402Serverless.Core.Access;
using X402Serverless.Core.Ports;

namespace X402Serverless.Tests.Stores;

/// <summary>What every IAccessStore adapter must do.</summary>
public abstract class AccessStoreContract
{
    protected abstract Task<IAccessStore> StoreAsync();

    [Fact]
    public async Task Keys_find_their_organisation_by_hash_and_unknown_hashes_find_nothing()
    {
        var store = await StoreAsync();
        var now = new DateTimeOffset(2026, 11, 21, 0, 0, 0, TimeSpan.Zero);
        var org = new Organisation("org_" + Guid.NewGuid().ToString("N")[..8], "Acme", true, now);
        await store.CreateOrganisationAsync(org, new AccessKey("key_1", org.Id, "x402sk_abc", AccessKey.AdminRole, now), "hash1" + org.Id, default);
        await store.AddKeyAsync(new AccessKey("key_2", org.Id, "x402sk_def", AccessKey.AdminRole, now), "hash2" + org.Id, default);

        var found = await store.FindByKeyHashAsync("hash2" + org.Id, default);
        Assert.NotNull(found);
        Assert.Equal("key_2", found.Value.Key.Id);
        Assert.Equal(org, found.Value.Organisation);
        Assert.Null(await store.FindByKeyHashAsync("nope", default));
        Assert.True(await store.CountOrganisationsAsync(default) >= 1);
        Assert.Equal(org, await store.FindOrganisationAsync(org.Id, default));
        Assert.Null(await store.FindOrganisationAsync("org_missing", default));
        Assert.Equal(org, await store.FindOperatorAsync(default));
    }

    [Fact]
    public async Task Keys_are_listed_and_revoked_only_within_their_organisation()
    {
        var store = await StoreAsync();
        var now = new DateTimeOffset(2026, 11, 21, 0, 0, 0, TimeSpan.Zero);
        var org = new Organisation("org_" + Guid.NewGuid().ToString("N")[..8], "A", false, now);
        await store.CreateOrganisationAsync(org, new AccessKey("k1" + org.Id, org.Id, "x402sk_1", AccessKey.AdminRole, now), "h1" + org.Id, default);
        await store.AddKeyAsync(new AccessKey("k2" + org.Id, org.Id, "x402sk_2", AccessKey.AdminRole, now.AddSeconds(1)), "h2" + org.Id, default);

        Assert.Null(await store.FindOperatorAsync(default));
        Assert.Equal(["k1" + org.Id, "k2" + org.Id], (await store.ListKeysAsync(org.Id, default)).Select(k => k.Id));
        Assert.False(await store.RevokeKeyAsync("org_other", "k2" + org.Id, default));
        Assert.True(await store.RevokeKeyAsync(org.Id, "k2" + org.Id, default));
        Assert.Null(await store.FindByKeyHashAsync("h2" + org.Id, default));
        Assert.NotNull(await store.FindByKeyHashAsync("h1" + org.Id, default));
    }
}
