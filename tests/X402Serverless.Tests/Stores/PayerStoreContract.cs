using X402Serverless.Core.Payers;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Money;

namespace X402Serverless.Tests.Stores;

/// <summary>What every IPayerStore adapter must do.</summary>
public abstract class PayerStoreContract
{
    protected abstract Task<IPayerStore> StoreAsync(params string[] organisations);

    private static Payer Payer(string org, long allowance = 0) => new()
    {
        Id = "payer_" + Guid.NewGuid().ToString("N")[..10],
        OrganisationId = org,
        Name = "Agent",
        MonthlyAllowance = Usd.FromMicros(allowance),
        MonthlyCap = Usd.FromMicros(50_000_000),
        CreditLimit = Usd.FromMicros(1_000_000),
        CreatedAt = new DateTimeOffset(2026, 11, 21, 0, 0, 0, TimeSpan.Zero),
    };

    private static PayerKey Key(string id, Payer payer, int minute) => new(id, payer.Id, "x402pk_" + id, payer.CreatedAt.AddMinutes(minute));

    [Fact]
    public async Task Keys_list_by_prefix_and_a_revoked_key_finds_nobody_while_the_others_still_do()
    {
        var org = "org_" + Guid.NewGuid().ToString("N")[..8];
        var store = await StoreAsync(org);
        var payer = Payer(org);
        var other = Payer(org) with { Id = "payer_" + Guid.NewGuid().ToString("N") };
        await store.CreateAsync(payer, Key("pk1", payer, 0), "hash-1-" + payer.Id, default);
        await store.AddKeyAsync(Key("pk2", payer, 1), "hash-2-" + payer.Id, default);
        await store.CreateAsync(other, Key("pk3", other, 0), "hash-3-" + other.Id, default);

        Assert.Equal([Key("pk1", payer, 0), Key("pk2", payer, 1)], await store.ListKeysAsync(payer.Id, default));
        Assert.False(await store.RevokeKeyAsync(payer.Id, "pk3", default)); // another payer's key
        Assert.True(await store.RevokeKeyAsync(payer.Id, "pk1", default));
        Assert.False(await store.RevokeKeyAsync(payer.Id, "pk1", default));

        Assert.Null(await store.FindByKeyHashAsync("hash-1-" + payer.Id, default));
        Assert.Equal(payer.Id, (await store.FindByKeyHashAsync("hash-2-" + payer.Id, default))?.Id);
        Assert.Equal(other.Id, (await store.FindByKeyHashAsync("hash-3-" + other.Id, default))?.Id);
        Assert.Equal([Key("pk2", payer, 1)], await store.ListKeysAsync(payer.Id, default));
    }

    [Fact]
    public async Task Payers_are_found_by_any_of_their_keys_and_read_back_whole()
    {
        var org = "org_" + Guid.NewGuid().ToString("N")[..8];
        var store = await StoreAsync(org);
        var payer = Payer(org, allowance: 3_000_000);
        await store.CreateAsync(payer, Key("pk1", payer, 0), "hash-a-" + payer.Id, default);
        await store.AddKeyAsync(Key("pk2", payer, 1), "hash-b-" + payer.Id, default);
        Assert.Equal(payer, await store.FindByKeyHashAsync("hash-a-" + payer.Id, default));
        Assert.Equal(payer, await store.FindByKeyHashAsync("hash-b-" + payer.Id, default));
        Assert.Null(await store.FindByKeyHashAsync("hash-none", default));
        Assert.Contains(org, await store.OrganisationsWithAllowancesAsync(default));
    }

    [Fact]
    public async Task Only_the_owning_organisation_updates_a_payer_and_budgets_round_trip()
    {
        var org = "org_" + Guid.NewGuid().ToString("N")[..8];
        var store = await StoreAsync(org, "org_else");
        var payer = Payer(org);
        await store.CreateAsync(payer, Key("pk", payer, 0), "hash-" + payer.Id, default);
        Assert.False(await store.UpdateAsync(payer with { OrganisationId = "org_else", Name = "Stolen" }, default));
        Assert.True(await store.UpdateAsync(payer with { MonthlyCap = null, Name = "Renamed" }, default));
        var read = await store.GetAsync(payer.Id, default);
        Assert.Equal("Renamed", read!.Name);
        Assert.Null(read.MonthlyCap);
        Assert.Single(await store.ListAsync(org, default));

        Assert.Null(await store.MonthlyBudgetAsync(org, default));
        await store.SetMonthlyBudgetAsync(org, Usd.FromMicros(7_000_000), default);
        Assert.Equal(7_000_000, (await store.MonthlyBudgetAsync(org, default))?.Micros);
        await store.SetMonthlyBudgetAsync(org, null, default);
        Assert.Null(await store.MonthlyBudgetAsync(org, default));
    }
}
