using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using X402Serverless.Core.Inbox;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Inbox;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.Inbox.InboxFixture;

namespace X402Serverless.Tests.Inbox;

/// <summary>
/// A message is stored held, paid for, then queued. A request stopped in between leaves it held: paid for, the sender
/// is answered 202 and the maintenance sweep queues it (delivered once, charged once); not paid for, the sweep deletes
/// it and nothing is charged. Never money taken for a message that is neither delivered nor refunded.
/// </summary>
public sealed class InboxHeldMessageTests
{
    [Fact]
    public async Task A_paid_message_that_could_not_be_queued_is_accepted_and_the_sweep_delivers_it_once()
    {
        var failQueue = 1;
        await using var smtp = await TestSmtpServer.StartAsync();
        await using var gateway = await StartAsync(smtp.Port, store => new HookedInboxMessageStore(store)
        {
            BeforeUpdate = (_, expected) => expected == MessageStatuses.Held && Interlocked.Exchange(ref failQueue, 0) == 1
                ? throw new IOException("The message store is down.") : Task.CompletedTask,
        });
        var (owner, url, payerId, payerKey) = await InboxAsync(gateway);

        using var accepted = await SendAsync(url, new { subject = "Held", body = "Paid, then the store failed" }, payerKey);

        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var receiptUrl = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("receiptUrl").GetString()!;
        Assert.Equal(0, Volatile.Read(ref failQueue));
        Assert.Contains(gateway.Logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("could not be queued now", StringComparison.Ordinal));
        var ledger = gateway.Services.GetRequiredService<ILedger>();
        Assert.Equal(750_000, (await ledger.BalanceAsync(Accounts.Credits(payerId), default)).Micros); // paid
        Assert.Empty(smtp.To(owner));

        await SweepUntilDecidedAsync(gateway);

        await WaitForStatusAsync(receiptUrl, MessageStatuses.Delivered);
        Assert.Single(smtp.To(owner));
        Assert.Equal(750_000, (await ledger.BalanceAsync(Accounts.Credits(payerId), default)).Micros); // once
        Assert.Equal(0, await gateway.Services.GetRequiredService<HeldMessages>().SweepAsync(default));
    }

    [Fact]
    public async Task A_message_whose_request_stopped_before_its_payment_is_deleted_by_the_sweep_and_nothing_is_charged()
    {
        var stop = 1;
        await using var smtp = await TestSmtpServer.StartAsync();
        await using var gateway = await StartAsync(smtp.Port, store => new HookedInboxMessageStore(store)
        {
            AfterAdd = _ => Interlocked.Exchange(ref stop, 0) == 1 ? throw new IOException("The request stopped here.") : Task.CompletedTask,
        });
        var (owner, url, payerId, payerKey) = await InboxAsync(gateway);
        var messages = gateway.Services.GetRequiredService<IInboxMessageStore>();

        using (var stopped = await SendAsync(url, new { subject = "Held", body = "Stored, never paid" }, payerKey))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, stopped.StatusCode);
        }
        var ledger = gateway.Services.GetRequiredService<ILedger>();
        Assert.Equal(1_000_000, (await ledger.BalanceAsync(Accounts.Credits(payerId), default)).Micros); // released
        var held = Assert.Single(await messages.HeldBeforeAsync(DateTimeOffset.MaxValue, 10, default));

        await SweepUntilDecidedAsync(gateway);

        Assert.Null(await messages.GetAsync(held.Id, default));
        Assert.Empty(smtp.To(owner));
        Assert.Equal(1_000_000, (await ledger.BalanceAsync(Accounts.Credits(payerId), default)).Micros);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_pass_message_left_held_is_delivered_only_if_its_pass_call_was_not_given_back(bool givenBack)
    {
        var (stop, storeDown) = (1, givenBack ? 0 : 1);
        await using var smtp = await TestSmtpServer.StartAsync();
        await using var gateway = await StartAsync(smtp.Port, store => new HookedInboxMessageStore(store)
        {
            AfterAdd = _ => Interlocked.Exchange(ref stop, 0) == 1 ? throw new IOException("The request stopped here.") : Task.CompletedTask,
        }, passes => new HookedPassStore(passes)
        {
            BeforeGiveBackSpend = _ => Interlocked.Exchange(ref storeDown, 0) == 1 ? throw new IOException("The pass store is down.") : Task.CompletedTask,
        });
        var (owner, url, _, payerKey) = await InboxAsync(gateway, pass: true);
        var passes = gateway.Services.GetRequiredService<IPassStore>();
        var linkId = new Uri(url).Segments[^1];
        var passId = Assert.Single(await passes.ListForLinkAsync(linkId, 10, default)).Id;

        // The pass call was taken and the message stored held; then the request failed before its capture. Its release
        // gave the call back, or (the store down) could not: then the call is still taken, as after a crash.
        using (var stopped = await SendAsync(url, new { subject = "Held", body = "Paid with a pass call" }, payerKey))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, stopped.StatusCode);
        }
        Assert.Equal(givenBack ? 2 : 1, (await passes.GetAsync(linkId, passId, default))!.CallsLeft);

        await SweepUntilDecidedAsync(gateway);

        Assert.Empty(await passes.StaleSpendsAsync(DateTimeOffset.MaxValue, 10, default));
        if (givenBack)
        {
            Assert.Equal(2, (await passes.GetAsync(linkId, passId, default))!.CallsLeft);
            Assert.Empty(smtp.To(owner));
        }
        else
        {
            // The sweep kept the call for the message it paid for, and delivered it.
            await WaitForAsync(() => smtp.To(owner).Count == 1);
            Assert.Equal(1, (await passes.GetAsync(linkId, passId, default))!.CallsLeft);
        }
    }

    [Fact]
    public async Task A_held_message_that_cannot_be_decided_now_keeps_none_of_the_others_waiting()
    {
        await using var smtp = await TestSmtpServer.StartAsync();
        await using var gateway = await StartAsync(smtp.Port, store => store, passes => new HookedPassStore(passes)
        {
            BeforeConcludeSpend = spend => spend == "spd_unreadable" ? throw new IOException("The pass store is down for this one.") : Task.CompletedTask,
        });
        var (owner, url, payerId, _) = await InboxAsync(gateway, pass: true);
        var linkId = new Uri(url).Segments[^1];
        var passes = gateway.Services.GetRequiredService<IPassStore>();
        var messages = gateway.Services.GetRequiredService<IInboxMessageStore>();
        var at = DateTimeOffset.UtcNow.AddMinutes(-10);
        var held = new List<InboxMessage>();
        foreach (var spend in new[] { "spd_unreadable", "spd_fine" })
        {
            // A request took a pass call for the message, stored it held, and stopped.
            Assert.NotNull(await passes.TrySpendAsync(linkId, "payer:" + payerId, at, spend, default));
            var message = new InboxMessage
            {
                Id = "msg_" + Guid.NewGuid().ToString("N")[..22], LinkId = linkId, OrganisationId = "org_held", DeliverTo = owner, Subject = spend, Body = spend,
                Status = MessageStatuses.Held, NextAttemptAt = at, PaidWith = InboxPaidWith.Pass, SpendId = spend, CreatedAt = at, UpdatedAt = at,
            };
            await messages.AddAsync(message, default);
            held.Add(message);
        }

        var failed = await Assert.ThrowsAsync<AggregateException>(() => gateway.Services.GetRequiredService<HeldMessages>().SweepAsync(default));

        Assert.Contains(held[0].Id, Assert.Single(failed.InnerExceptions).Message, StringComparison.Ordinal);
        Assert.Equal(MessageStatuses.Held, (await messages.GetAsync(held[0].Id, default))!.Status);
        Assert.NotEqual(MessageStatuses.Held, (await messages.GetAsync(held[1].Id, default))!.Status);
        await WaitForAsync(() => smtp.To(owner).Count == 1);
    }

    [Fact]
    public async Task An_x402_message_left_held_is_delivered_once_only_for_its_own_settled_payment()
    {
        await using var smtp = await TestSmtpServer.StartAsync();
        await using var gateway = await StartAsync(smtp.Port, store => store);
        var messages = gateway.Services.GetRequiredService<IInboxMessageStore>();
        var payments = gateway.Services.GetRequiredService<IPaymentStore>();
        var at = DateTimeOffset.UtcNow.AddMinutes(-10);
        async Task<InboxMessage> HeldAsync(string name, DateTimeOffset? reserved, Func<string, Task>? then = null)
        {
            var message = new InboxMessage
            {
                Id = "msg_" + Guid.NewGuid().ToString("N")[..22], LinkId = "lnk_held", OrganisationId = "org_held", DeliverTo = $"{name}-{Guid.NewGuid():N}@example.com",
                Subject = name, Body = name, Status = MessageStatuses.Held, NextAttemptAt = at, PaidWith = Core.Links.PaymentTypes.X402,
                Amount = Core.Money.Usd.FromMicros(250_000), PaymentId = "pay_" + Guid.NewGuid().ToString("N"), CreatedAt = at, UpdatedAt = at,
            };
            if (reserved is { } when)
            {
                Assert.True(await payments.TryReserveAsync(Stores.PaymentStoreContract.Payment() with { Id = message.PaymentId!, CreatedAt = when, UpdatedAt = when }, default));
                await (then?.Invoke(message.PaymentId!) ?? Task.CompletedTask);
            }
            await messages.AddAsync(message, default);
            return message;
        }
        Task SettleAsync(string id) => payments.MarkSettledAsync(id, "0x" + new string('1', 64), at, default);

        // Settled by its own request, which stopped before queueing the message.
        var captured = await HeldAsync("captured", at.AddSeconds(-1), SettleAsync);
        // Settled by recovery after its request stopped: owed, and claimed by the message.
        var recovered = await HeldAsync("recovered", at.AddSeconds(-1), async id => { await SettleAsync(id); Assert.True(await payments.TrySetContentOwedAsync(id, true, default)); });
        // Freed by recovery, then reserved afresh by a later request, which settled it for its own message.
        var reusedLater = await HeldAsync("reused", at.AddSeconds(1), SettleAsync);
        // Freed: nothing moved.
        var freed = await HeldAsync("freed", null);
        // Still being settled: decided on a later pass.
        var settling = await HeldAsync("settling", at.AddSeconds(-1));

        await gateway.Services.GetRequiredService<HeldMessages>().SweepAsync(default);

        Assert.NotEqual(MessageStatuses.Held, (await messages.GetAsync(captured.Id, default))!.Status);
        Assert.NotEqual(MessageStatuses.Held, (await messages.GetAsync(recovered.Id, default))!.Status);
        Assert.False((await payments.GetAsync(recovered.PaymentId!, default))!.ContentOwed); // claimed: a retry gets nothing more
        Assert.Null(await messages.GetAsync(reusedLater.Id, default));
        Assert.Null(await messages.GetAsync(freed.Id, default));
        Assert.Equal(MessageStatuses.Held, (await messages.GetAsync(settling.Id, default))!.Status);
    }

    /// <summary>
    /// A gateway whose inbox store is <paramref name="wrap"/> around the real one (and its pass store
    /// <paramref name="wrapPasses"/>); messages are decided once held a second.
    /// </summary>
    private static Task<GatewayHost> StartAsync(int smtpPort, Func<IInboxMessageStore, IInboxMessageStore> wrap, Func<IPassStore, IPassStore>? wrapPasses = null) =>
        // The test runs the held-message sweep itself: the settlement worker's maintenance pass would race it.
        StartGatewayAsync(smtpPort, new Dictionary<string, string?> { ["X402:Inbox:HeldGraceSeconds"] = "1", ["X402:Settlement:RunWorker"] = "false" }, b =>
            b.Host.UseServiceProviderFactory(new LateRegistrations(services =>
            {
                LateRegistrations.Decorate<IInboxMessageStore>(services, (_, store) => wrap(store));
                LateRegistrations.Decorate<IPassStore>(services, (_, store) => wrapPasses?.Invoke(store) ?? store);
            })));

    /// <summary>
    /// An organisation's inbox link paid from credits, and a payer holding 1,000,000 of them; with <paramref name="pass"/>,
    /// the link sells a pass of 2 messages, which the payer buys.
    /// </summary>
    private static async Task<(string Owner, string Url, string PayerId, string PayerKey)> InboxAsync(GatewayHost gateway, bool pass = false)
    {
        using var created = await gateway.Admin.PostAsJsonAsync("/api/organisations", new { name = $"Org {Guid.NewGuid():N}" });
        using var org = gateway.Client((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());
        var owner = $"owner-{Guid.NewGuid():N}@example.com";
        var (linkId, url) = await NewInboxAsync(org, owner);
        if (pass)
        {
            using var offered = await org.PatchAsJsonAsync($"/api/links/{linkId}", new { pass = new { price = "0.50", calls = 2 } });
            Assert.Equal(HttpStatusCode.OK, offered.StatusCode);
        }
        var (payerId, payerKey) = await NewPayerAsync(org);
        Assert.Equal(PostResult.Posted, await gateway.Services.GetRequiredService<ILedger>().PostAsync(
            LedgerEntry.Transfer($"fund:{Guid.NewGuid():N}", "topup", Accounts.CardClearing, Accounts.Credits(payerId), Core.Money.Usd.FromMicros(1_000_000)), [], default));
        if (pass)
        {
            using var client = gateway.Client(payerKey);
            using var bought = await client.PostAsync($"/pass/{linkId}", null);
            Assert.Equal(HttpStatusCode.Created, bought.StatusCode);
        }
        return (owner, url, payerId, payerKey);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            await Task.Delay(50, timeout.Token);
        }
    }

    /// <summary>Runs the sweep until it has decided the held message (once it is held past the grace; the maintenance pass may get there first).</summary>
    private static async Task SweepUntilDecidedAsync(GatewayHost gateway)
    {
        var messages = gateway.Services.GetRequiredService<IInboxMessageStore>();
        var sweep = gateway.Services.GetRequiredService<HeldMessages>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while ((await messages.HeldBeforeAsync(DateTimeOffset.MaxValue, 10, default)).Count > 0)
        {
            await sweep.SweepAsync(default);
            await Task.Delay(100, timeout.Token);
        }
    }
}
