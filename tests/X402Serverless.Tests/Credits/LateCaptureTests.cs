using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using X402Serverless.Core.Credits;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Credits;

/// <summary>
/// A credit-paid call whose hold is gone by the time its upstream answers (it outlived the stale-hold sweep): the
/// capture pays nothing, so the answer is withheld (402, insufficient_credits) rather than given away, and the payer
/// keeps every cent.
/// </summary>
public sealed class LateCaptureTests
{
    [Fact]
    public async Task A_call_whose_hold_was_swept_meanwhile_is_not_paid_and_its_answer_is_withheld()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (upstream, upstreamUrl) = await LoopbackApp.StartAsync(app => app.Map("/slow", async () =>
        {
            arrived.TrySetResult();
            await answer.Task;
            return Results.Json(new { secret = "the paid content" });
        }));
        await using var upstreamApp = upstream;
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            ["X402:AllowedUpstreamRanges:0"] = "127.0.0.0/8",
        }, b => b.Services.AddSingleton<TimeProvider>(clock));

        using var created = await gateway.Admin.PostAsJsonAsync("/api/organisations", new { name = "Late capture org" });
        using var organisation = gateway.Client((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());
        var (payerId, payerKey, _) = await CreditsFixture.NewPayerAsync(organisation, new { name = "Late payer" });
        var (_, url) = await gateway.CreateLinkAsync(new Dictionary<string, object?>
        {
            ["upstream"] = upstreamUrl + "/slow", ["price"] = "0.01", ["payTo"] = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", ["accepts"] = new[] { "credits" },
        }, organisation);
        var ledger = gateway.Services.GetRequiredService<ILedger>();
        await ledger.PostAsync(LedgerEntry.Transfer("late-fund", "topup", Accounts.CardClearing, Accounts.Credits(payerId), Usd.FromMicros(1_000_000)), [], default);

        var call = CreditsFixture.CallAsync(url, payerKey);
        await arrived.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(990_000, (await ledger.BalanceAsync(Accounts.Credits(payerId), default)).Micros); // held

        // Long past any call's time: the sweep gives the money back while the upstream still works.
        clock.Advance(TimeSpan.FromHours(1));
        // (The gateway's own maintenance pass may get there first: either way the hold is released once.)
        await gateway.Services.GetRequiredService<CreditCharges>().ReleaseStaleAsync(TimeSpan.FromMinutes(10), default);
        Assert.Empty(await ledger.StaleHoldsAsync(DateTimeOffset.MaxValue, 10, default));
        Assert.Equal(1_000_000, (await ledger.BalanceAsync(Accounts.Credits(payerId), default)).Micros);

        answer.SetResult();
        using var response = await call;
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(402, (int)response.StatusCode);
        Assert.Contains("insufficient_credits", body, StringComparison.Ordinal);
        Assert.DoesNotContain("the paid content", body, StringComparison.Ordinal);
        Assert.Equal(1_000_000, (await ledger.BalanceAsync(Accounts.Credits(payerId), default)).Micros);
        Assert.Equal(0, (await ledger.TotalAsync(default)).Micros);
        Assert.DoesNotContain(await ledger.TrialBalanceAsync(default), row => row.Account.StartsWith("earnings:", StringComparison.Ordinal) && row.Balance.IsPositive);
    }
}
