using X402Serverless.Core.Inbox;
using X402Serverless.Core.Links;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;

namespace X402Serverless.Tests.Stores;

/// <summary>What every IInboxMessageStore adapter must do, and how an inbox link's settings are kept by every ILinkStore.</summary>
public abstract class InboxMessageStoreContract
{
    protected abstract Task<IInboxMessageStore> StoreAsync();

    protected abstract Task<ILinkStore> LinkStoreAsync(string organisation);

    private static readonly DateTimeOffset At = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    private static InboxMessage Message(string body = "Hello") => new()
    {
        Id = "msg_" + Guid.NewGuid().ToString("N")[..22],
        LinkId = "lnk_inbox",
        OrganisationId = "org_inbox",
        DeliverTo = "owner@example.com",
        Subject = "Hi",
        Body = body,
        ReplyTo = "sender@example.org",
        Status = MessageStatuses.Held,
        NextAttemptAt = At,
        PaidWith = PaymentTypes.Credits,
        Amount = Usd.FromMicros(250_000),
        Fee = Usd.FromMicros(2_500),
        HoldId = "hold_1",
        HoldSource = "credits:payer_1",
        CreatedAt = At,
        UpdatedAt = At,
    };

    [Fact]
    public async Task A_message_round_trips_and_changes_only_while_its_status_and_attempt_are_as_expected()
    {
        var store = await StoreAsync();
        var message = Message();
        await store.AddAsync(message, default);
        Assert.Equal(message, await store.GetAsync(message.Id, default));

        var queued = message with { Status = MessageStatuses.Queued };
        Assert.True(await store.TryUpdateAsync(queued, MessageStatuses.Held, 0, default));
        // Two claims from the same snapshot: exactly one wins.
        var claim = queued with { Status = MessageStatuses.Sending, Attempts = 1 };
        Assert.True(await store.TryUpdateAsync(claim, MessageStatuses.Queued, 0, default));
        Assert.False(await store.TryUpdateAsync(claim, MessageStatuses.Queued, 0, default));
        Assert.False(await store.TryUpdateAsync(claim with { Status = MessageStatuses.Delivered }, MessageStatuses.Sending, 0, default));
        Assert.Equal(claim, await store.GetAsync(message.Id, default));
        Assert.Null(await store.GetAsync("msg_missing", default));
        Assert.False(await store.TryUpdateAsync(Message(), MessageStatuses.Held, 0, default));
    }

    [Fact]
    public async Task Due_lists_queued_and_lease_expired_messages_oldest_first_never_held_or_finished_ones()
    {
        var store = await StoreAsync();
        var marker = Guid.NewGuid().ToString("N");
        var early = Message(marker) with { Status = MessageStatuses.Queued, NextAttemptAt = At.AddMinutes(-2) };
        var leaseOver = Message(marker) with { Status = MessageStatuses.Sending, NextAttemptAt = At.AddMinutes(-1) };
        var later = Message(marker) with { Status = MessageStatuses.Queued, NextAttemptAt = At.AddMinutes(5) };
        var held = Message(marker) with { NextAttemptAt = At.AddMinutes(-3) };
        var delivered = Message(marker) with { Status = MessageStatuses.Delivered, NextAttemptAt = At.AddMinutes(-3) };
        foreach (var m in new[] { later, leaseOver, early, held, delivered })
        {
            await store.AddAsync(m, default);
        }
        var due = (await store.DueAsync(At, 1000, default)).Where(m => m.Body == marker).Select(m => m.Id).ToList();
        Assert.Equal([early.Id, leaseOver.Id], due);
    }

    [Fact]
    public async Task Only_a_held_message_is_deleted_and_a_large_body_survives_whole()
    {
        var store = await StoreAsync();
        var held = Message();
        // Larger than one Table Storage string property, with escapes and non-ASCII text.
        var big = Message(string.Concat(Enumerable.Repeat("line \"é\"\n", InboxSettings.MaxMessageBytesLimit / 10))) with { Status = MessageStatuses.Queued };
        await store.AddAsync(held, default);
        await store.AddAsync(big, default);
        await store.DeleteHeldAsync(held.Id, default);
        await store.DeleteHeldAsync(big.Id, default);
        Assert.Null(await store.GetAsync(held.Id, default));
        Assert.Equal(big.Body, (await store.GetAsync(big.Id, default))!.Body);
    }

    [Fact]
    public async Task A_link_keeps_its_inbox_settings_and_a_plain_link_has_none()
    {
        var org = "org_" + Guid.NewGuid().ToString("N")[..8];
        var links = await LinkStoreAsync(org);
        var inbox = new InboxSettings { DeliverTo = "owner@example.com", MaxMessageBytes = 2048, AutoReply = "Thanks!", Allow = ["payer_abc", "0x209693bc6afc0c5328ba36faf03c514ef312287c"], Block = ["spam@example.org"] };
        var link = new PaidLink
        {
            Id = "lnk_" + Guid.NewGuid().ToString("N")[..10], OrganisationId = org, Upstream = InboxSettings.UpstreamFor(inbox.DeliverTo),
            Price = Usd.FromMicros(10_000), PayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", Networks = ["eip155:84532"], Methods = ["POST"],
            Inbox = inbox, CreatedAt = At, UpdatedAt = At,
        };
        await links.CreateAsync(link, default);
        var read = (await links.FindAsync(link.Id, default))!;
        Assert.Equal(inbox.DeliverTo, read.Inbox!.DeliverTo);
        Assert.Equal(inbox.AutoReply, read.Inbox.AutoReply);
        Assert.Equal(inbox.MaxMessageBytes, read.Inbox.MaxMessageBytes);
        Assert.Equal(inbox.Allow, read.Inbox.Allow);
        Assert.Equal(inbox.Block, read.Inbox.Block);
        Assert.True(await links.UpdateAsync(read with { Inbox = inbox with { AutoReply = null } }, default));
        Assert.Null((await links.FindAsync(link.Id, default))!.Inbox!.AutoReply);
        var plain = link with { Id = "lnk_" + Guid.NewGuid().ToString("N")[..10], Upstream = "https://api.example.com", Inbox = null };
        await links.CreateAsync(plain, default);
        Assert.Null((await links.FindAsync(plain.Id, default))!.Inbox);
    }

    [Fact]
    public async Task A_webhook_inbox_keeps_its_url_and_sealed_secrets_and_a_message_its_targets_delivered()
    {
        var org = "org_" + Guid.NewGuid().ToString("N")[..8];
        var links = await LinkStoreAsync(org);
        var secrets = new List<Core.OutboundWebhooks.WebhookSecret>
        {
            new("whs_old", "sealed-old", At, At.AddHours(24)),
            new("whs_new", "sealed-new", At.AddMinutes(1), null),
        };
        var inbox = new InboxSettings { DeliverTo = "", WebhookUrl = "https://hooks.example.com/inbox", WebhookSecrets = secrets };
        var link = new PaidLink
        {
            Id = "lnk_" + Guid.NewGuid().ToString("N")[..10], OrganisationId = org, Upstream = InboxSettings.UpstreamFor(inbox.DeliverTo),
            Price = Usd.FromMicros(10_000), PayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", Networks = ["eip155:84532"], Methods = ["POST"],
            Inbox = inbox, CreatedAt = At, UpdatedAt = At,
        };
        await links.CreateAsync(link, default);
        var read = (await links.FindAsync(link.Id, default))!;
        Assert.Equal(InboxSettings.WebhookOnlyUpstream, read.Upstream);
        Assert.False(read.Inbox!.Mails);
        Assert.Equal(inbox.WebhookUrl, read.Inbox.WebhookUrl);
        Assert.Equal(secrets, read.Inbox.WebhookSecrets);
        Assert.True(await links.UpdateAsync(read with { Inbox = read.Inbox with { WebhookUrl = null, WebhookSecrets = [] } }, default));
        var removed = (await links.FindAsync(link.Id, default))!.Inbox!;
        Assert.Null(removed.WebhookUrl);
        Assert.Empty(removed.WebhookSecrets);

        var store = await StoreAsync();
        var message = Message() with { Webhook = true, Status = MessageStatuses.Queued };
        await store.AddAsync(message, default);
        Assert.Equal([DeliveryTargets.Email, DeliveryTargets.Webhook], (await store.GetAsync(message.Id, default))!.Targets());
        var partly = message with { Attempts = 1, DeliveredTo = [DeliveryTargets.Email] };
        Assert.True(await store.TryUpdateAsync(partly, MessageStatuses.Queued, 0, default));
        var again = (await store.GetAsync(message.Id, default))!;
        Assert.True(again.Webhook);
        Assert.Equal([DeliveryTargets.Email], again.DeliveredTo);
    }

    [Fact]
    public async Task A_links_messages_page_newest_first_without_held_ones_or_other_links_messages()
    {
        var store = await StoreAsync();
        var link = "lnk_" + Guid.NewGuid().ToString("N")[..10];
        var sent = Enumerable.Range(0, 5).Select(i => Message() with { LinkId = link, Status = MessageStatuses.Queued, CreatedAt = At.AddMinutes(i) }).ToList();
        foreach (var m in sent)
        {
            await store.AddAsync(m, default);
        }
        await store.AddAsync(Message() with { LinkId = link, CreatedAt = At.AddMinutes(10) }, default);
        await store.AddAsync(Message() with { LinkId = link + "x", Status = MessageStatuses.Queued }, default);

        var first = await store.ListAsync(link, null, 2, default);
        Assert.Equal([sent[4].Id, sent[3].Id], first.Items.Select(m => m.Id));
        var second = await store.ListAsync(link, first.Next, 2, default);
        Assert.Equal([sent[2].Id, sent[1].Id], second.Items.Select(m => m.Id));
        var last = await store.ListAsync(link, second.Next, 2, default);
        Assert.Equal([sent[0].Id], last.Items.Select(m => m.Id));
        Assert.Null(last.Next);
        Assert.Empty((await store.ListAsync("lnk_none", null, 10, default)).Items);
    }

    [Fact]
    public async Task Refunds_due_are_paid_failed_messages_without_a_decided_refund_changed_long_enough_ago()
    {
        var store = await StoreAsync();
        var marker = Guid.NewGuid().ToString("N");
        var interrupted = Message(marker) with { Status = MessageStatuses.Failed, UpdatedAt = At.AddMinutes(-10) };
        var recent = interrupted with { Id = Message().Id, UpdatedAt = At.AddMinutes(1) };
        var refunded = interrupted with { Id = Message().Id, Refunded = true };
        var owed = interrupted with { Id = Message().Id, RefundOwed = true };
        var free = interrupted with { Id = Message().Id, PaidWith = "free", Amount = Usd.Zero };
        var delivered = interrupted with { Id = Message().Id, Status = MessageStatuses.Delivered };
        foreach (var m in new[] { interrupted, recent, refunded, owed, free, delivered })
        {
            await store.AddAsync(m, default);
        }
        Assert.Equal([interrupted.Id], (await store.RefundsDueAsync(At, 1000, default)).Where(m => m.Body == marker).Select(m => m.Id));
        Assert.True(await store.TryUpdateAsync(interrupted with { Refunded = true }, MessageStatuses.Failed, 0, default));
        Assert.DoesNotContain((await store.RefundsDueAsync(At, 1000, default)), m => m.Body == marker);
    }

    [Fact]
    public async Task Held_before_lists_messages_still_held_since_then_oldest_first_never_queued_or_recent_ones()
    {
        var store = await StoreAsync();
        var marker = Guid.NewGuid().ToString("N");
        var older = Message(marker) with { UpdatedAt = At.AddMinutes(-20) };
        var old = Message(marker) with { UpdatedAt = At.AddMinutes(-10) };
        var recent = Message(marker) with { UpdatedAt = At.AddMinutes(1) };
        var queued = Message(marker) with { Status = MessageStatuses.Queued, UpdatedAt = At.AddMinutes(-30) };
        foreach (var m in new[] { old, recent, queued, older })
        {
            await store.AddAsync(m, default);
        }
        Assert.Equal([older.Id, old.Id], (await store.HeldBeforeAsync(At, 1000, default)).Where(m => m.Body == marker).Select(m => m.Id));
        Assert.True(await store.TryUpdateAsync(old with { Status = MessageStatuses.Queued }, MessageStatuses.Held, 0, default));
        Assert.Equal([older.Id], (await store.HeldBeforeAsync(At, 1000, default)).Where(m => m.Body == marker).Select(m => m.Id));
    }

    [Fact]
    public async Task Totals_add_up_including_concurrent_additions()
    {
        var store = await StoreAsync();
        var link = "lnk_" + Guid.NewGuid().ToString("N")[..10];
        Assert.Equal(InboxTotals.None, await store.TotalsAsync(link, default));
        var one = new InboxTotals(1, Usd.FromMicros(250_000), Usd.Zero, Usd.Zero);
        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => store.AddTotalsAsync(link, one, default)));
        await store.AddTotalsAsync(link, new InboxTotals(0, Usd.Zero, Usd.FromMicros(250_000), Usd.FromMicros(500_000)), default);
        var totals = await store.TotalsAsync(link, default);
        Assert.Equal(new InboxTotals(20, Usd.FromMicros(5_000_000), Usd.FromMicros(250_000), Usd.FromMicros(500_000)), totals);
        Assert.Equal(Usd.FromMicros(4_250_000), totals.Kept);
    }
}
