using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Settlement;
using X402Serverless.Tests.Credits;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Passes;

/// <summary>
/// A pass call is a spend, kept when the call is charged and given back when it is not. A give-back that fails (the
/// store down) or never runs (the process stopped mid-call) leaves the spend behind: the maintenance pass gives those
/// calls back once they are older than any call can be, and never a call that was charged. A call that outlives that
/// sweep is not paid, so its answer is withheld.
/// </summary>
public sealed class PassSpendRecoveryTests
{
    [Fact]
    public async Task A_pass_call_whose_give_back_failed_comes_back_with_the_stale_sweep_and_a_charged_call_stays_spent()
    {
        var failing = true;
        await using var setUp = await PassHolderAsync("/flaky", () => Results.Json(new { upstream = Volatile.Read(ref failing) ? "down" : "up" },
            statusCode: Volatile.Read(ref failing) ? StatusCodes.Status500InternalServerError : StatusCodes.Status200OK));

        // The upstream fails, so the call is not charged, and giving its pass call back fails: the payer still gets the
        // upstream's answer, and the call stays taken for now.
        setUp.FailNextGiveBack();
        using (var failed = await CreditsFixture.CallAsync(setUp.Url, setUp.PayerKey))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
            Assert.Contains("down", await failed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.True(setUp.GiveBackFailed);
        Assert.Equal(1, await setUp.CallsLeftAsync());

        // A charged call keeps its pass call.
        Volatile.Write(ref failing, false);
        using (var paid = await CreditsFixture.CallAsync(setUp.Url, setUp.PayerKey))
        {
            Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
            Assert.Equal("0", paid.Headers.GetValues("X-Pass-Calls-Left").Single());
        }
        Assert.Equal(0, await setUp.Maintenance.GiveBackStaleSpendsAsync(default)); // nothing is stale yet

        setUp.Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(1, await setUp.Maintenance.GiveBackStaleSpendsAsync(default));
        Assert.Equal(1, await setUp.CallsLeftAsync()); // the failed call's, once; the charged one stays spent
        Assert.Equal(0, await setUp.Maintenance.GiveBackStaleSpendsAsync(default));
        Assert.Equal(750_000, (await setUp.Ledger.BalanceAsync(Accounts.Credits(setUp.PayerId), default)).Micros);
    }

    [Fact]
    public async Task A_pass_call_that_outlives_the_sweep_is_not_paid_so_its_answer_is_withheld()
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var setUp = await PassHolderAsync("/slow", async () =>
        {
            arrived.TrySetResult();
            await answer.Task;
            return Results.Json(new { secret = "the paid content" });
        });

        var call = CreditsFixture.CallAsync(setUp.Url, setUp.PayerKey);
        await arrived.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, await setUp.CallsLeftAsync()); // taken while it runs
        setUp.Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(1, await setUp.Maintenance.GiveBackStaleSpendsAsync(default));
        Assert.Equal(2, await setUp.CallsLeftAsync());

        answer.SetResult();
        using var response = await call;
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        Assert.DoesNotContain("the paid content", body, StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("X-Pass-Id"));
        Assert.Equal(2, await setUp.CallsLeftAsync());
        Assert.Equal(750_000, (await setUp.Ledger.BalanceAsync(Accounts.Credits(setUp.PayerId), default)).Micros); // nor charged otherwise
    }

    [Fact]
    public async Task A_pass_call_whose_keeping_lost_its_answer_is_answered_and_charged_once()
    {
        await using var setUp = await PassHolderAsync("/ok", () => Results.Json(new { upstream = "up" }));

        setUp.LoseNextConcludeAnswer();
        using (var paid = await CreditsFixture.CallAsync(setUp.Url, setUp.PayerKey))
        {
            Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
            Assert.Equal("1", paid.Headers.GetValues("X-Pass-Calls-Left").Single());
        }
        Assert.True(setUp.ConcludeAnswerLost);
        Assert.Equal(1, await setUp.CallsLeftAsync()); // taken once, kept
        setUp.Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, await setUp.Maintenance.GiveBackStaleSpendsAsync(default));
        Assert.Equal(1, await setUp.CallsLeftAsync());
    }

    /// <summary>
    /// A gateway on a fake clock whose pass store can fail one give-back, a link on <paramref name="path"/> of an upstream
    /// answering with <paramref name="handler"/>, and a payer holding a pass of 2 calls on it (bought from 1,000,000 of credits).
    /// </summary>
    private static async Task<PassHolder> PassHolderAsync(string path, Delegate handler)
    {
        var (upstream, upstreamUrl) = await LoopbackApp.StartAsync(app => app.Map(path, handler));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var holder = new PassHolder { Upstream = upstream, Clock = clock };
        holder.Gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            // The test runs the maintenance steps itself: the worker's own pass would race its counts.
            ["X402:Settlement:RunWorker"] = "false",
        }, b =>
        {
            b.Services.AddSingleton<TimeProvider>(clock);
            b.Host.UseServiceProviderFactory(new LateRegistrations(services => LateRegistrations.Decorate<IPassStore>(services,
                (_, store) => new HookedPassStore(store) { BeforeGiveBackSpend = _ => holder.GiveBackHook(), AfterConcludeSpend = _ => holder.ConcludeHook() })));
        });
        using var created = await holder.Gateway.Admin.PostAsJsonAsync("/api/organisations", new { name = "Pass spend org" });
        using var organisation = holder.Gateway.Client((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());
        (holder.PayerId, holder.PayerKey, _) = await CreditsFixture.NewPayerAsync(organisation, new { name = "Pass spender" });
        (holder.LinkId, holder.Url) = await holder.Gateway.CreateLinkAsync(new Dictionary<string, object?>
        {
            ["upstream"] = upstreamUrl + path, ["price"] = "0.10", ["payTo"] = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
            ["accepts"] = new[] { "credits" }, ["pass"] = new { price = "0.25", calls = 2 },
        }, organisation);
        Assert.Equal(PostResult.Posted, await holder.Ledger.PostAsync(
            LedgerEntry.Transfer("pass-spend-fund", "topup", Accounts.CardClearing, Accounts.Credits(holder.PayerId), Usd.FromMicros(1_000_000)), [], default));
        using var buy = new HttpRequestMessage(HttpMethod.Post, $"/pass/{holder.LinkId}");
        buy.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", holder.PayerKey);
        using var client = holder.Gateway.Client();
        using var bought = await client.SendAsync(buy);
        Assert.Equal(HttpStatusCode.Created, bought.StatusCode);
        holder.PassId = (await bought.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        return holder;
    }

    private sealed class PassHolder : IAsyncDisposable
    {
        private int _failNext;
        private int _failed;
        private int _loseConclude;
        private int _concludeLost;

        public required WebApplication Upstream { get; init; }

        public required FakeTimeProvider Clock { get; init; }

        public GatewayHost Gateway { get; set; } = null!;

        public string PayerId { get; set; } = "";

        public string PayerKey { get; set; } = "";

        public string LinkId { get; set; } = "";

        public string Url { get; set; } = "";

        public string PassId { get; set; } = "";

        public ILedger Ledger => Gateway.Services.GetRequiredService<ILedger>();

        public MaintenancePass Maintenance => Gateway.Services.GetRequiredService<MaintenancePass>();

        public bool GiveBackFailed => Volatile.Read(ref _failed) == 1;

        public void FailNextGiveBack() => Volatile.Write(ref _failNext, 1);

        public bool ConcludeAnswerLost => Volatile.Read(ref _concludeLost) == 1;

        public void LoseNextConcludeAnswer() => Volatile.Write(ref _loseConclude, 1);

        public Task ConcludeHook()
        {
            if (Interlocked.Exchange(ref _loseConclude, 0) == 1)
            {
                Volatile.Write(ref _concludeLost, 1);
                throw new IOException("The connection was reset after the request was sent.");
            }
            return Task.CompletedTask;
        }

        public Task GiveBackHook()
        {
            if (Interlocked.Exchange(ref _failNext, 0) == 1)
            {
                Volatile.Write(ref _failed, 1);
                throw new IOException("The pass store is down.");
            }
            return Task.CompletedTask;
        }

        public async Task<int?> CallsLeftAsync() => (await Gateway.Services.GetRequiredService<IPassStore>().GetAsync(LinkId, PassId, default))!.CallsLeft;

        public async ValueTask DisposeAsync()
        {
            await Gateway.DisposeAsync();
            await Upstream.DisposeAsync();
        }
    }
}
