using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using X402Serverless.Core.Ledger;
using X402Serverless.Sqlite;
using X402Serverless.Tests.Support;
using Xunit.Abstractions;
using X402Serverless.Core.Money;

namespace X402Serverless.Tests.Drills;

/// <summary>
/// Drill: SIGKILL the handler while credit-paid calls hold the payer's money and wait on their upstream, restart it,
/// and check every held cent is the payer's again, every answered call was captured once, and the ledger still balances.
/// </summary>
public sealed class CreditCrashDrill(ITestOutputHelper output)
{
    private const int Answered = 5;
    private const int InFlight = 40;
    private const long Price = 10_000; // $0.01
    private const long Funded = 1_000_000; // $1.00

    [Fact]
    public async Task Killing_the_handler_with_credit_holds_in_flight_leaks_no_hold_and_keeps_the_ledger_balanced()
    {
        var arrived = new ConcurrentBag<string>();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (upstream, upstreamUrl) = await LoopbackApp.StartAsync(app =>
        {
            app.Map("/ok", () => Results.Json(new { ok = true }));
            app.Map("/hold/{id}", async (string id) =>
            {
                arrived.Add(id);
                await release.Task; // never answers while the handler lives
                return Results.Json(new { late = true });
            });
        });
        await using var upstreamApp = upstream;
        var dataDirectory = Path.Combine(Path.GetTempPath(), "x402-credit-crash-" + Guid.NewGuid().ToString("N"));
        var settings = new Dictionary<string, string?>
        {
            ["X402:DataDirectory"] = dataDirectory,
            ["X402:AllowedUpstreamRanges:0"] = "127.0.0.0/8",
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            ["X402:UpstreamTimeoutSeconds"] = "120",
            ["X402_ADMIN_KEY"] = GatewayHost.AdminKey,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        // A port of its own for each start: a port given back by a killed process may be handed to another test's server.
        // The links' URLs are then asked of whichever handler runs.

        // A payer and two credit links (one answers, one hangs), made through the API; then $1 of credits posted
        // to the store while no handler runs.
        string payerId, payerKey, okUrl, holdUrl;
        await using (var first = await HandlerProcess.StartAsync(PeerProcess.FreePort(), settings))
        {
            using var admin = Admin(first.BaseUrl);
            var payer = await (await admin.PostAsJsonAsync("/api/payers", new { name = "Crash payer" })).Content.ReadFromJsonAsync<JsonElement>();
            payerId = payer.GetProperty("payer").GetProperty("id").GetString()!;
            payerKey = payer.GetProperty("key").GetString()!;
            okUrl = new Uri(await LinkAsync(admin, upstreamUrl + "/ok")).PathAndQuery;
            holdUrl = new Uri(await LinkAsync(admin, upstreamUrl + "/hold")).PathAndQuery;
        }
        var ledger = new SqliteLedger(new SqliteDatabase(Path.Combine(dataDirectory, "x402.db")), TimeProvider.System);
        await ledger.PostAsync(LedgerEntry.Transfer("drill-fund", "topup", Accounts.CardClearing, Accounts.Credits(payerId), Usd.FromMicros(Funded)), [], default);

        var second = await HandlerProcess.StartAsync(PeerProcess.FreePort(), settings);
        List<Task<HttpResponseMessage>> hanging;
        try
        {
            for (var i = 0; i < Answered; i++)
            {
                using var paid = await CallAsync(second.BaseUrl + okUrl, payerKey);
                Assert.Equal(200, (int)paid.StatusCode);
            }
            hanging = Enumerable.Range(0, InFlight).Select(i => CallAsync($"{second.BaseUrl}{holdUrl}/{i}", payerKey)).ToList();
            // Every hanging call has its hold placed: the upstream sees a call only after its money is held.
            await Poll.UntilAsync(() => Task.FromResult(arrived.Count == InFlight), TimeSpan.FromSeconds(60));
            // The payer sees the held money out of reach and counted as spent, as the handler holds it (in memory, beside
            // its writer: the file has only the answered calls' captures).
            var me = await MeAsync(second.BaseUrl, payerKey);
            Assert.Equal(Usd.FromMicros(Funded - (Answered + InFlight) * Price).ToString(), me.GetProperty("credits").GetString());
            Assert.Equal(Usd.FromMicros((Answered + InFlight) * Price).ToString(), me.GetProperty("spentThisMonth").GetString());
        }
        finally
        {
            await second.KillAsync();
        }
        foreach (var call in hanging)
        {
            // The payer's side of each call ends with the process: a reset connection, never an answer.
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => call);
        }
        // Killed, the handler's holds are gone with it: nothing held is left in the file to sweep, no money taken.
        Assert.Empty(await ledger.StaleHoldsAsync(DateTimeOffset.MaxValue, 1000, default));
        Assert.Equal(Funded - Answered * Price, (await ledger.BalanceAsync(Accounts.Credits(payerId), default)).Micros);
        output.WriteLine($"credit crash drill: SIGKILL with {InFlight} holds (${Usd.FromMicros(InFlight * Price)}) in flight; none left after it");
        release.SetResult();

        await using (var third = await HandlerProcess.StartAsync(PeerProcess.FreePort(), settings))
        {
            using var admin = Admin(third.BaseUrl);
            var trial = await admin.GetFromJsonAsync<JsonElement>("/api/ledger/trial-balance");
            output.WriteLine($"credit crash drill: after restart no hold is left; trial balance total {trial.GetProperty("total").GetString()}, consistent={trial.GetProperty("consistent").GetBoolean()}");
            Assert.Equal("0.00", trial.GetProperty("total").GetString());
            Assert.True(trial.GetProperty("consistent").GetBoolean());
            var me = await MeAsync(third.BaseUrl, payerKey);
            Assert.Equal(Usd.FromMicros(Funded - Answered * Price).ToString(), me.GetProperty("credits").GetString());
            // What the killed calls reserved on the month's counter went with them: they were never charged.
            Assert.Equal(Usd.FromMicros(Answered * Price).ToString(), me.GetProperty("spentThisMonth").GetString());
        }

        // Only the answered calls were paid for, exactly once each; the rest went back to the payer.
        Assert.Equal(Funded - Answered * Price, (await ledger.BalanceAsync(Accounts.Credits(payerId), default)).Micros);
        Assert.Equal(0, (await ledger.TotalAsync(default)).Micros);
        Assert.All(await ledger.TrialBalanceAsync(default), row => Assert.Equal(row.PostedSum, row.Balance));
        Assert.All((await ledger.TrialBalanceAsync(default)).Where(r => r.Account.StartsWith("hold:", StringComparison.Ordinal)), row => Assert.Equal(0, (row.Balance).Micros));
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(dataDirectory, recursive: true);
    }

    private static async Task<JsonElement> MeAsync(string baseUrl, string payerKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, baseUrl + "/api/me");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", payerKey);
        using var answer = await Payer.SendAsync(request);
        Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
        return await answer.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static HttpClient Admin(string baseUrl)
    {
        var client = new HttpClient { BaseAddress = new Uri(baseUrl) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayHost.AdminKey);
        return client;
    }

    private static async Task<string> LinkAsync(HttpClient admin, string upstream)
    {
        using var created = await admin.PostAsJsonAsync("/api/links", new
        {
            upstream, price = "0.01", payTo = ChainFixture.NewAddress().ToString(), accepts = new[] { "credits" },
        });
        var json = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(created.IsSuccessStatusCode, json.ToString());
        return json.GetProperty("url").GetString()!;
    }

    private static readonly HttpClient Payer = new() { Timeout = TimeSpan.FromSeconds(120) };

    private static Task<HttpResponseMessage> CallAsync(string url, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return Payer.SendAsync(request);
    }
}
