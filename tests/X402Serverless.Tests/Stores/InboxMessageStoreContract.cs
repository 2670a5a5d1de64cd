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
        var inbox = new InboxSettings { DeliverTo = "owner@example.com", MaxMessageBytes = 2048, AutoReply = "Thanks!", Allow = ["payer_abc", "0x209693bc6afc0c5328ba36faf03c514ef312287c"] };
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
        Assert.True(await links.UpdateAsync(read with { Inbox = inbox with { AutoReply = null } }, default));
        Assert.Null((await links.FindAsync(link.Id, default))!.Inbox!.AutoReply);
        var plain = link with { Id = "lnk_" + Guid.NewGuid().ToString("N")[..10], Upstream = "https://api.example.com", Inbox = null };
        await links.CreateAsync(plain, default);
        Assert.Null((await links.FindAsync(plain.Id, default))!.Inbox);
    }
}
