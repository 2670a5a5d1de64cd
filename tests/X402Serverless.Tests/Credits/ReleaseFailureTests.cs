using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Credits;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Credits;

/// <summary>
/// A call not charged (the upstream failed, or answered a status the link does not charge) whose hold cannot be released
/// now (the store busy): the payer still gets the call's own answer, not the store's 503, the failure is logged, and the
/// stale-hold sweep gives the money back later. Nothing is charged either way.
/// </summary>
public sealed class ReleaseFailureTests
{
    [Fact]
    public async Task An_uncharged_upstream_answer_is_passed_back_even_when_its_release_fails_and_the_sweep_returns_the_money()
    {
        var (upstream, upstreamUrl) = await LoopbackApp.StartAsync(app =>
            app.Map("/broken", () => Results.Json(new { upstream = "broken today" }, statusCode: StatusCodes.Status500InternalServerError)));
        await using var upstreamApp = upstream;
        await using var setUp = await BusyReleaseAsync(upstreamUrl + "/broken");

        using var response = await CreditsFixture.CallAsync(setUp.Url, setUp.PayerKey);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Contains("broken today", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("X-Charged"));
        await setUp.AssertReleaseLoggedThenSweptAsync();
    }

    [Fact]
    public async Task An_unreachable_upstream_is_reported_as_such_even_when_the_release_fails()
    {
        await using var setUp = await BusyReleaseAsync($"http://127.0.0.1:{PeerProcess.FreePort()}/gone");

        using var response = await CreditsFixture.CallAsync(setUp.Url, setUp.PayerKey);

        await ProblemAssert.IsAsync(response, StatusCodes.Status502BadGateway, "upstream_unreachable");
        await setUp.AssertReleaseLoggedThenSweptAsync();
    }

    /// <summary>A gateway whose ledger fails the first hold release as a busy Table store would, a funded payer and a credits link.</summary>
    private static async Task<BusyRelease> BusyReleaseAsync(string upstream)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var busy = 1;
        var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
        }, b =>
        {
            b.Services.AddSingleton<TimeProvider>(clock);
            b.Host.UseServiceProviderFactory(new LateRegistrations(services => LateRegistrations.Decorate<ILedger>(services,
                (_, store) => new HookedLedger(store)
                {
                    BeforeReleaseHold = _ => Interlocked.Exchange(ref busy, 0) == 1
                        ? throw new RowContendedException("The row kept changing; post it again.")
                        : Task.CompletedTask,
                })));
        });
        using var created = await gateway.Admin.PostAsJsonAsync("/api/organisations", new { name = "Busy release org" });
        using var organisation = gateway.Client((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());
        var (payerId, payerKey, _) = await CreditsFixture.NewPayerAsync(organisation, new { name = "Busy release payer" });
        var (_, url) = await gateway.CreateLinkAsync(new Dictionary<string, object?>
        {
            ["upstream"] = upstream, ["price"] = "0.01", ["payTo"] = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", ["accepts"] = new[] { "credits" },
        }, organisation);
        var ledger = gateway.Services.GetRequiredService<ILedger>();
        Assert.Equal(PostResult.Posted, await ledger.PostAsync(LedgerEntry.Transfer("busy-fund", "topup", Accounts.CardClearing, Accounts.Credits(payerId), Usd.FromMicros(1_000_000)), [], default));
        return new BusyRelease(gateway, clock, ledger, payerId, payerKey, url);
    }

    private sealed record BusyRelease(GatewayHost Gateway, FakeTimeProvider Clock, ILedger Ledger, string PayerId, string PayerKey, string Url) : IAsyncDisposable
    {
        /// <summary>The failed release is logged and the money stays held; past any call's time the sweep gives it all back.</summary>
        public async Task AssertReleaseLoggedThenSweptAsync()
        {
            Assert.Contains(Gateway.Logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("Releasing the BalanceCharge", StringComparison.Ordinal));
            Assert.Equal(990_000, (await Ledger.BalanceAsync(Accounts.Credits(PayerId), default)).Micros);
            Clock.Advance(TimeSpan.FromHours(1));
            await Gateway.Services.GetRequiredService<CreditCharges>().ReleaseStaleAsync(TimeSpan.FromMinutes(10), default);
            Assert.Equal(1_000_000, (await Ledger.BalanceAsync(Accounts.Credits(PayerId), default)).Micros);
            Assert.Empty(await Ledger.StaleHoldsAsync(DateTimeOffset.MaxValue, 10, default));
        }

        public ValueTask DisposeAsync() => Gateway.DisposeAsync();
    }
}
