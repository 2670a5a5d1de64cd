using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using X402Serverless.Core.Access;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Payers;
using X402Serverless.Handler.Payers;
using X402Serverless.Sqlite;
using X402Serverless.Tests.Credits;
using static X402Serverless.Tests.Credits.CreditsFixture;

namespace X402Serverless.Tests.Payers;

/// <summary>
/// The gateway remembers payer keys for a few seconds (SQLite mode): a key that has just paid is revoked, or its
/// payer's cap lowered, and the very next call already sees it.
/// </summary>
public sealed class PayerKeyCacheTests(CreditsFixture fixture) : IClassFixture<CreditsFixture>
{
    [Fact]
    public async Task A_key_revoked_right_after_paying_is_refused_on_the_next_call_without_moving_money()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Leaky agent" });
        await fixture.FundAsync(Accounts.Credits(payer.Id), 50_000);
        var link = await fixture.NewLinkAsync(org, "0.01", ["credits"]);
        for (var i = 0; i < 2; i++)
        {
            using var paid = await CallAsync(link.Url, payer.Key);
            Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        }
        var keyId = (await org.GetFromJsonAsync<JsonElement>($"/api/payers/{payer.Id}/keys")).GetProperty("items")[0].GetProperty("id").GetString();

        using (var revoked = await org.DeleteAsync($"/api/payers/{payer.Id}/keys/{keyId}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }
        using (var refused = await CallAsync(link.Url, payer.Key))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
        Assert.Equal(30_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
    }

    [Fact]
    public async Task A_cap_lowered_right_after_paying_applies_to_the_next_call()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Capped agent" });
        await fixture.FundAsync(Accounts.Credits(payer.Id), 50_000);
        var link = await fixture.NewLinkAsync(org, "0.01", ["credits"]);
        using (var paid = await CallAsync(link.Url, payer.Key))
        {
            Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        }

        using (var capped = await org.PatchAsJsonAsync($"/api/payers/{payer.Id}", new { monthlyCap = "0.01" }))
        {
            Assert.Equal(HttpStatusCode.OK, capped.StatusCode);
        }
        using (var refused = await CallAsync(link.Url, payer.Key))
        {
            Assert.Equal(HttpStatusCode.PaymentRequired, refused.StatusCode);
        }
        Assert.Equal(40_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
    }

    [Fact]
    public async Task A_key_is_remembered_for_its_lifetime_only_and_unknown_keys_are_not_remembered()
    {
        var database = new SqliteDatabase(Path.Combine(Path.GetTempPath(), "x402-payer-cache-" + Guid.NewGuid().ToString("N"), "x402.db"));
        await using var _ = database;
        await new SqliteAccessStore(database).CreateOrganisationAsync(new Organisation("org_1", "Org", false, DateTimeOffset.UnixEpoch),
            new AccessKey("key_org_1", "org_1", "p", "admin", DateTimeOffset.UnixEpoch), "hash_org_1", default);
        var store = new SqlitePayerStore(database);
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var cached = new CachedPayerStore(store, time);
        var payer = new Payer { Id = "payer_1", OrganisationId = "org_1", Name = "P", CreatedAt = DateTimeOffset.UnixEpoch };
        await store.CreateAsync(payer, new PayerKey("pkey_1", payer.Id, "x402pk_aaaa", DateTimeOffset.UnixEpoch), "hash-1", default);

        // Not known yet, then added behind the cache's back: found at once, as a miss is not remembered.
        Assert.Null(await cached.FindByKeyHashAsync("hash-2", default));
        await store.AddKeyAsync(new PayerKey("pkey_2", payer.Id, "x402pk_bbbb", DateTimeOffset.UnixEpoch), "hash-2", default);
        Assert.Equal(payer.Id, (await cached.FindByKeyHashAsync("hash-2", default))?.Id);

        // Deleted behind the cache's back (not how this process revokes): still served until its lifetime ends.
        Assert.Equal(payer.Id, (await cached.FindByKeyHashAsync("hash-1", default))?.Id);
        Assert.True(await store.RevokeKeyAsync(payer.Id, "pkey_1", default));
        Assert.NotNull(await cached.FindByKeyHashAsync("hash-1", default));
        time.Advance(CachedPayerStore.Lifetime);
        Assert.Null(await cached.FindByKeyHashAsync("hash-1", default));

        // Revoked through the cache: refused at once.
        Assert.True(await cached.RevokeKeyAsync(payer.Id, "pkey_2", default));
        Assert.Null(await cached.FindByKeyHashAsync("hash-2", default));
        Assert.Equal(Usd.Zero, (await cached.GetAsync(payer.Id, default))!.CreditLimit);
    }
}
