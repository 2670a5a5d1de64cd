using X402Serverless.Core.Health;
using X402Serverless.Core.Ports;

namespace X402Serverless.Tests.Stores;

/// <summary>What every ILinkHealthStore adapter must do.</summary>
public abstract class LinkHealthStoreContract
{
    protected abstract Task<ILinkHealthStore> StoreAsync();

    [Fact]
    public async Task Records_are_replaced_per_link_listed_whole_and_deleted_by_id()
    {
        var store = await StoreAsync();
        var at = new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
        var up = new LinkHealth { LinkId = "lnk_up", OrganisationId = "org_a", Up = true, CheckedAt = at, Status = 200, LastUpAt = at };
        var down = new LinkHealth
        {
            LinkId = "lnk_down", OrganisationId = "org_b", Up = false, CheckedAt = at, Failure = HealthFailures.Timeout, ConsecutiveFailures = 1,
        };
        await store.SaveAsync([up, down], default);
        var later = down with { CheckedAt = at.AddMinutes(5), Status = 503, Failure = HealthFailures.Status, ConsecutiveFailures = 2, LastUpAt = at.AddMinutes(-5) };
        await store.SaveAsync([later], default);
        await store.SaveAsync([], default);

        var all = (await store.ListAsync(default)).OrderBy(h => h.LinkId, StringComparer.Ordinal).ToList();
        Assert.Equal([later, up], all);

        await store.DeleteAsync(["lnk_down", "lnk_never"], default);
        Assert.Equal([up], await store.ListAsync(default));
    }
}
