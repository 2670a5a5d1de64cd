using System.Diagnostics;
using X402Serverless.Tests.Support;
using Xunit.Abstractions;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.Drills;

/// <summary>Drill: one payment header fired 200 times at once must be served once and settled once.</summary>
[Collection(ChainGroup.Name)]
public sealed class ReplayDrill(ChainFixture chain, ITestOutputHelper output)
{
    [Theory]
    [InlineData("sync")]
    [InlineData("deferred")]
    public async Task Two_hundred_concurrent_replays_make_one_upstream_call_and_one_transfer(string settlement)
    {
        var link = await chain.CreateLinkAsync(price: "0.002", settlement: settlement, facilitator: "builtin", deferredPayers: "any");
        var header = new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = chain.PayerKey }.V2Header();

        var clock = Stopwatch.StartNew();
        var statuses = await SendConcurrentlyAsync(link.Url, header, 200);
        var elapsed = clock.Elapsed;
        if (settlement == "deferred")
        {
            await WaitUntilAsync(async () => await chain.BalanceAsync(link.PayTo) == 2_000, TimeSpan.FromSeconds(30));
        }

        var transfers = await chain.Rpc.TransferLogCountAsync(chain.Token, link.PayTo);
        output.WriteLine($"replay drill ({settlement}): 200 requests in {elapsed.TotalMilliseconds:0} ms; " +
            $"200={statuses.Count(s => s == 200)} 402={statuses.Count(s => s == 402)} other={statuses.Count(s => s is not (200 or 402))}; " +
            $"upstream calls={chain.Upstream.Hits(link.UpstreamPath)}; on-chain transfers={transfers}");
        Assert.Equal(1, statuses.Count(s => s == 200));
        Assert.Equal(199, statuses.Count(s => s == 402));
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
        Assert.Equal(1, transfers);
        Assert.Equal(2_000, await chain.BalanceAsync(link.PayTo));
    }

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The condition did not hold in time.");
            }
            await Task.Delay(100);
        }
    }
}
