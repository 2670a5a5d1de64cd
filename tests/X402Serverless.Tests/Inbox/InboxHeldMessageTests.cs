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

    /// <summary>A gateway whose inbox store is <paramref name="wrap"/> around the real one; messages are decided once held a second.</summary>
    private static Task<GatewayHost> StartAsync(int smtpPort, Func<IInboxMessageStore, IInboxMessageStore> wrap) =>
        StartGatewayAsync(smtpPort, new Dictionary<string, string?> { ["X402:Inbox:HeldGraceSeconds"] = "1" }, b =>
            b.Host.UseServiceProviderFactory(new LateRegistrations(services => LateRegistrations.Decorate<IInboxMessageStore>(services, (_, store) => wrap(store)))));

    /// <summary>An organisation's inbox link paid from credits, and a payer holding 1,000,000 of them.</summary>
    private static async Task<(string Owner, string Url, string PayerId, string PayerKey)> InboxAsync(GatewayHost gateway)
    {
        using var created = await gateway.Admin.PostAsJsonAsync("/api/organisations", new { name = $"Org {Guid.NewGuid():N}" });
        using var org = gateway.Client((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());
        var owner = $"owner-{Guid.NewGuid():N}@example.com";
        var (_, url) = await NewInboxAsync(org, owner);
        var (payerId, payerKey) = await NewPayerAsync(org);
        Assert.Equal(PostResult.Posted, await gateway.Services.GetRequiredService<ILedger>().PostAsync(
            LedgerEntry.Transfer($"fund:{Guid.NewGuid():N}", "topup", Accounts.CardClearing, Accounts.Credits(payerId), Core.Money.Usd.FromMicros(1_000_000)), [], default));
        return (owner, url, payerId, payerKey);
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
