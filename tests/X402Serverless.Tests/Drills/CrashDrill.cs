using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using X402Serverless.Core.Payments;
using X402Serverless.Sqlite;
using X402Serverless.Tests.Support;
using Xunit.Abstractions;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.Drills;

/// <summary>
/// Drill: SIGKILL the handler while 100 deferred settlements are pending (chain mining paused, so transactions sit
/// in the mempool or are not yet sent), restart it, and check every served payment is settled exactly once.
/// </summary>
[Collection(ChainGroup.Name)]
public sealed class CrashDrill(ChainFixture chain, ITestOutputHelper output)
{
    private const int Payments = 100;

    [Fact]
    public async Task Killing_the_handler_with_100_pending_deferred_settlements_loses_none_and_doubles_none()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "x402-crash-" + Guid.NewGuid().ToString("N"));
        var settings = chain.GatewaySettings(chain.FacilitatorUrl);
        settings["X402:DataDirectory"] = dataDirectory;
        settings["X402:AllowedUpstreamRanges:0"] = "127.0.0.0/8";
        settings["X402_ADMIN_KEY"] = GatewayHost.AdminKey;
        settings["X402:Settlement:GasWalletKey"] = await chain.FundedWalletAsync();
        settings["X402:Settlement:ReceiptTimeoutSeconds"] = "60";
        settings["Logging:LogLevel:Default"] = "Warning";
        // One busy wallet with 100 unsettled deferred calls: this drill lifts the per-wallet bound on purpose.
        settings["X402:Settlement:DeferredMaxInFlightPerPayer"] = "1000";
        var port = PeerProcess.FreePort();

        var handler = await HandlerProcess.StartAsync(port, settings);
        PaidTestLink link;
        try
        {
            using var admin = new HttpClient { BaseAddress = new Uri(handler.BaseUrl) };
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayHost.AdminKey);
            var path = $"/ok/{Guid.NewGuid():N}";
            var payTo = ChainFixture.NewAddress();
            using var created = await admin.PostAsJsonAsync("/api/links", new
            {
                upstream = chain.Upstream.BaseUrl + path, price = "0.001", payTo = payTo.ToString(), settlement = "deferred", deferredPayers = "any", facilitator = "builtin",
            });
            var url = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString()!;
            link = new PaidTestLink("", url, path, payTo);
            var requirement = await RequirementAsync(url);

            await chain.Rpc.CallAsync("evm_setAutomine", false);
            var clock = Stopwatch.StartNew();
            var served = 0;
            foreach (var batch in Enumerable.Range(0, Payments).Chunk(10))
            {
                var responses = await Task.WhenAll(batch.Select(_ =>
                    SendAsync(url, new PaymentBuilder { Requirement = requirement, PayerKey = chain.PayerKey }.V2Header())));
                served += responses.Count(r => (int)r.StatusCode == 200);
                foreach (var r in responses)
                {
                    r.Dispose();
                }
            }
            output.WriteLine($"crash drill: served {served}/{Payments} deferred calls in {clock.ElapsedMilliseconds} ms with mining paused");
            Assert.Equal(Payments, served);
            // Kill while settlement is under way: once the worker has broadcast at least one of them.
            await Poll.UntilAsync(async () =>
                Convert.ToInt32((await chain.Rpc.CallAsync("txpool_status")).GetProperty("pending").GetString(), 16) > 0, TimeSpan.FromSeconds(60));
        }
        catch
        {
            // A failed drill must not leave the shared chain paused for every test after it.
            await chain.Rpc.CallAsync("evm_setAutomine", true);
            throw;
        }
        finally
        {
            await handler.KillAsync();
        }

        var atKill = await CountByStatusAsync(dataDirectory);
        var mempool = await chain.Rpc.CallAsync("txpool_status");
        output.WriteLine($"crash drill: SIGKILL with store = {Describe(atKill)}, transactions in the mempool = {Convert.ToInt32(mempool.GetProperty("pending").GetString(), 16)}");
        Assert.Equal(0, atKill.GetValueOrDefault(PaymentStatus.Settled));

        await chain.Rpc.CallAsync("evm_setAutomine", true);
        await chain.Rpc.CallAsync("evm_mine");
        var recovery = Stopwatch.StartNew();
        // A fresh port: the killed process's may have been handed to another test's server meanwhile.
        await using (await HandlerProcess.StartAsync(PeerProcess.FreePort(), settings))
        {
            await Poll.UntilAsync(async () => (await CountByStatusAsync(dataDirectory)).GetValueOrDefault(PaymentStatus.Settled) == Payments,
                TimeSpan.FromSeconds(90));
        }
        var after = await CountByStatusAsync(dataDirectory);
        var transfers = await chain.Rpc.TransferLogCountAsync(chain.Token, link.PayTo);
        output.WriteLine($"crash drill: after restart store = {Describe(after)} in {recovery.ElapsedMilliseconds} ms; on-chain transfers to payTo = {transfers}");

        Assert.Equal(Payments, after.GetValueOrDefault(PaymentStatus.Settled));
        Assert.Equal(Payments, transfers);
        Assert.Equal(Payments * 1_000, await chain.BalanceAsync(link.PayTo));
        Assert.Equal(Payments, chain.Upstream.Hits(link.UpstreamPath));
    }

    private static async Task<Dictionary<PaymentStatus, int>> CountByStatusAsync(string dataDirectory)
    {
        var database = new SqliteDatabase(Path.Combine(dataDirectory, "x402.db"));
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT status, COUNT(*) FROM payments GROUP BY status;";
        await using var reader = await command.ExecuteReaderAsync();
        var counts = new Dictionary<PaymentStatus, int>();
        while (await reader.ReadAsync())
        {
            counts[Enum.Parse<PaymentStatus>(reader.GetString(0))] = reader.GetInt32(1);
        }
        return counts;
    }

    private static string Describe(Dictionary<PaymentStatus, int> counts) =>
        string.Join(", ", counts.Select(kv => $"{kv.Key.ToString().ToLowerInvariant()}={kv.Value}"));
}
