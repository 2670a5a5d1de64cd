using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Settlement;
using X402Serverless.Tests.Credits;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Settlement;

/// <summary>The maintenance pass runs each of its steps on its own: one that fails keeps none of the others from running.</summary>
public sealed class MaintenancePassTests
{
    [Fact]
    public async Task A_ledger_recovery_that_fails_is_logged_and_stale_holds_are_still_given_back()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var failing = 1;
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["X402:Settlement:RunWorker"] = "false",
        }, b =>
        {
            b.Services.AddSingleton<TimeProvider>(clock);
            b.Host.UseServiceProviderFactory(new LateRegistrations(services => LateRegistrations.Decorate<ILedger>(services,
                (_, store) => new HookedLedger(store)
                {
                    BeforeRecover = () => Volatile.Read(ref failing) == 1
                        ? throw new InvalidOperationException("A ledger entry could not be finished now.")
                        : Task.CompletedTask,
                })));
        });
        var ledger = gateway.Services.GetRequiredService<ILedger>();
        var credits = Accounts.Credits("payer_" + Guid.NewGuid().ToString("N")[..10]);
        Assert.Equal(PostResult.Posted, await ledger.PostAsync(LedgerEntry.Transfer("fund-" + credits, "topup", Accounts.CardClearing, credits, Usd.FromMicros(1_000)), [], default));
        var holdId = ledger.NewHoldId(clock.GetUtcNow());
        Assert.Equal(PostResult.Posted, (await ledger.HoldFirstAsync([(LedgerEntry.Transfer(holdId, "hold", credits, Accounts.Hold(holdId), Usd.FromMicros(600)), [])], default)).Result);
        Assert.Equal(400, (await ledger.BalanceAsync(credits, default)).Micros);
        // The call that held died: past the stale age, the sweep gives its money back.
        clock.Advance(TimeSpan.FromHours(1));

        Assert.Equal(["ledger recovery"], await gateway.Services.GetRequiredService<MaintenancePass>().ReconcileAsync(default));

        Assert.Equal(1_000, (await ledger.BalanceAsync(credits, default)).Micros);
        Assert.Contains(gateway.Logs.Entries, e => e.Message.Contains("Maintenance step ledger recovery failed", StringComparison.Ordinal));

        // Recovery that works again runs at the next pass, and nothing fails then.
        Volatile.Write(ref failing, 0);
        var logged = gateway.Logs.Entries.Count(e => e.Message.Contains("Maintenance step", StringComparison.Ordinal));
        Assert.Empty(await gateway.Services.GetRequiredService<MaintenancePass>().ReconcileAsync(default));
        Assert.Equal(logged, gateway.Logs.Entries.Count(e => e.Message.Contains("Maintenance step", StringComparison.Ordinal)));
    }
}
