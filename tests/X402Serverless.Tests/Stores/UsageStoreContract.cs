using X402Serverless.Core.Ports;
using X402Serverless.Core.Usage;

namespace X402Serverless.Tests.Stores;

/// <summary>What every IUsageStore adapter must do.</summary>
public abstract class UsageStoreContract
{
    protected abstract Task<IUsageStore> StoreAsync();

    [Fact]
    public async Task Counts_add_up_per_link_day_and_kind_even_when_flushed_concurrently_and_list_from_a_day_on()
    {
        var store = await StoreAsync();
        var org = "org_" + Guid.NewGuid().ToString("N")[..8];
        await store.AddAsync([new(org, "lnk_a", "2026-11-20", UsageKinds.Paid, 5)], default);
        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => store.AddAsync(
            [new(org, "lnk_a", "2026-11-21", UsageKinds.Challenged, 2), new(org, "lnk_a", "2026-11-21", UsageKinds.Paid, 1), new(org, "lnk_b", "2026-11-21", UsageKinds.NotCharged, 1)],
            default)));
        await store.AddAsync([new("org_other", "lnk_x", "2026-11-21", UsageKinds.Paid, 9)], default);
        await store.AddAsync([new(org, "lnk_a", "2026-11-21", UsageKinds.RateLimited, 4)], default);
        await store.AddAsync([new(org, "lnk_a", "2026-11-21", UsageKinds.RateLimited, 3)], default);

        var all = await store.ListAsync(org, "2026-11-01", default);
        Assert.Equal(5, all.Single(c => c.Day == "2026-11-20").Count);
        Assert.Equal(12, all.Single(c => c.LinkId == "lnk_a" && c.Day == "2026-11-21" && c.Kind == UsageKinds.Challenged).Count);
        Assert.Equal(6, all.Single(c => c.LinkId == "lnk_a" && c.Day == "2026-11-21" && c.Kind == UsageKinds.Paid).Count);
        Assert.Equal(6, all.Single(c => c.LinkId == "lnk_b").Count);
        Assert.Equal(7, all.Single(c => c.LinkId == "lnk_a" && c.Kind == UsageKinds.RateLimited).Count);
        Assert.DoesNotContain(all, c => c.LinkId == "lnk_x");
        Assert.All(await store.ListAsync(org, "2026-11-21", default), c => Assert.Equal("2026-11-21", c.Day));
    }
}
