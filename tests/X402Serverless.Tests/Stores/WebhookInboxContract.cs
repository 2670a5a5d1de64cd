using X402Serverless.Core.Ports;

namespace X402Serverless.Tests.Stores;

/// <summary>What every IWebhookInbox adapter must do.</summary>
public abstract class WebhookInboxContract
{
    /// <summary>The Stripe and the KYC inbox of one store.</summary>
    protected abstract Task<(IWebhookInbox Stripe, IWebhookInbox Kyc)> InboxesAsync();

    private async Task<IWebhookInbox> StoreAsync() => (await InboxesAsync()).Stripe;

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

    [Fact]
    public async Task Each_sender_has_its_own_inbox_so_equal_ids_from_two_senders_are_both_kept()
    {
        var (stripe, kyc) = await InboxesAsync();
        var id = "evt_" + Guid.NewGuid().ToString("N");
        var at = new DateTimeOffset(2026, 11, 21, 0, 0, 0, TimeSpan.Zero);
        Assert.True(await stripe.TryAddAsync(id, "checkout.session.completed", """{"from":"stripe"}""", at, default));
        Assert.True(await kyc.TryAddAsync(id, "verification.updated", """{"from":"kyc"}""", at, default));
        await stripe.MarkProcessedAsync(id, "credited", at, default);
        Assert.Equal("""{"from":"kyc"}""", await kyc.PayloadAsync(id, default));
        Assert.Contains(await kyc.PendingAsync(100, default), e => e.Id == id);
        Assert.DoesNotContain(await stripe.PendingAsync(100, default), e => e.Id == id);
    }
}
