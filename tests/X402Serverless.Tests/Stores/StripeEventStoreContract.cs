using X402Serverless.Core.Ports;

namespace X402Serverless.Tests.Stores;

/// <summary>What every IStripeEventStore adapter must do.</summary>
public abstract class StripeEventStoreContract
{
    protected abstract Task<IStripeEventStore> StoreAsync();

    [Fact]
    public async Task An_event_is_stored_once_stays_pending_until_processed()
    {
        var store = await StoreAsync();
        var id = "evt_" + Guid.NewGuid().ToString("N");
        var at = new DateTimeOffset(2026, 11, 21, 0, 0, 0, TimeSpan.Zero);
        Assert.True(await store.TryAddAsync(id, "checkout.session.completed", """{"id":"x"}""", at, default));
        Assert.False(await store.TryAddAsync(id, "checkout.session.completed", """{"id":"changed"}""", at, default));
        Assert.Equal("""{"id":"x"}""", await store.PayloadAsync(id, default));
        Assert.Contains(await store.PendingAsync(100, default), e => e.Id == id);
        await store.MarkProcessedAsync(id, "credited", at, default);
        Assert.DoesNotContain(await store.PendingAsync(100, default), e => e.Id == id);
        Assert.Null(await store.PayloadAsync("evt_missing", default));
    }
}
