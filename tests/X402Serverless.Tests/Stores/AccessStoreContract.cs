using X402Serverless.Core.Access;
using X402Serverless.Core.Ports;

namespace X402Serverless.Tests.Stores;

/// <summary>What every IAccessStore adapter must do.</summary>
public abstract class AccessStoreContract
{
    protected abstract Task<IAccessStore> StoreAsync();

    /// <summary>Writes a key the way the store did before roles and the facilitator grant existed (no role, no grant).</summary>
    protected abstract Task AddLegacyKeyAsync(IAccessStore store, string organisationId, string keyId, string keyHash);

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
        Assert.Equal(KeyRevocation.NotFound, await store.RevokeKeyAsync("org_other", "k2" + org.Id, default));
        Assert.Equal(KeyRevocation.Revoked, await store.RevokeKeyAsync(org.Id, "k2" + org.Id, default));
        Assert.Null(await store.FindByKeyHashAsync("h2" + org.Id, default));
        Assert.NotNull(await store.FindByKeyHashAsync("h1" + org.Id, default));
    }

    [Fact]
    public async Task Roles_and_the_facilitator_grant_round_trip_and_the_last_admin_key_stays()
    {
        var store = await StoreAsync();
        var now = new DateTimeOffset(2026, 11, 21, 0, 0, 0, TimeSpan.Zero);
        var org = new Organisation("org_" + Guid.NewGuid().ToString("N")[..8], "R", false, now);
        await store.CreateOrganisationAsync(org, new AccessKey("a1" + org.Id, org.Id, "x402sk_a", KeyRoles.Admin, now), "ha" + org.Id, default);
        await store.AddKeyAsync(new AccessKey("d1" + org.Id, org.Id, "x402sk_d", KeyRoles.Developer, now.AddSeconds(1), Facilitator: true), "hd" + org.Id, default);
        await store.AddKeyAsync(new AccessKey("r1" + org.Id, org.Id, "x402sk_r", KeyRoles.ReadOnly, now.AddSeconds(2)), "hr" + org.Id, default);

        var developer = (await store.FindByKeyHashAsync("hd" + org.Id, default))!.Value.Key;
        Assert.Equal((KeyRoles.Developer, true), (developer.Role, developer.Facilitator));
        var admin = (await store.FindByKeyHashAsync("ha" + org.Id, default))!.Value.Key;
        Assert.Equal((KeyRoles.Admin, false), (admin.Role, admin.Facilitator));
        Assert.Equal([KeyRoles.Admin, KeyRoles.Developer, KeyRoles.ReadOnly], (await store.ListKeysAsync(org.Id, default)).Select(k => k.Role));

        Assert.Equal(KeyRevocation.LastAdmin, await store.RevokeKeyAsync(org.Id, "a1" + org.Id, default));
        Assert.NotNull(await store.FindByKeyHashAsync("ha" + org.Id, default));
        Assert.Equal(KeyRevocation.Revoked, await store.RevokeKeyAsync(org.Id, "r1" + org.Id, default));
        await store.AddKeyAsync(new AccessKey("a2" + org.Id, org.Id, "x402sk_b", KeyRoles.Admin, now.AddSeconds(3)), "hb" + org.Id, default);
        Assert.Equal(KeyRevocation.Revoked, await store.RevokeKeyAsync(org.Id, "a1" + org.Id, default));
        Assert.Equal(KeyRevocation.LastAdmin, await store.RevokeKeyAsync(org.Id, "a2" + org.Id, default));
    }

    [Fact]
    public async Task A_key_stored_before_roles_reads_as_admin_with_the_facilitator_grant()
    {
        var store = await StoreAsync();
        var now = new DateTimeOffset(2026, 11, 21, 0, 0, 0, TimeSpan.Zero);
        var org = new Organisation("org_" + Guid.NewGuid().ToString("N")[..8], "L", false, now);
        await store.CreateOrganisationAsync(org, new AccessKey("n1" + org.Id, org.Id, "x402sk_n", KeyRoles.ReadOnly, now), "hn" + org.Id, default);
        await AddLegacyKeyAsync(store, org.Id, "old" + org.Id, "hold" + org.Id);

        var legacy = (await store.FindByKeyHashAsync("hold" + org.Id, default))!.Value.Key;
        Assert.Equal((KeyRoles.Admin, true), (legacy.Role, legacy.Facilitator));
        Assert.Equal(KeyRoles.Admin, (await store.ListKeysAsync(org.Id, default)).Single(k => k.Id == "old" + org.Id).Role);
        // It is the only admin key, so it is protected like one.
        Assert.Equal(KeyRevocation.LastAdmin, await store.RevokeKeyAsync(org.Id, "old" + org.Id, default));
    }
}
