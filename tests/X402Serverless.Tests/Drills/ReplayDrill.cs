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
            // Settled in the store, not only on chain: the next test's deferred call by this wallet must not see it in flight.
            await Poll.UntilAsync(async () => (await EndToEnd.PaymentsApiClient.ListAsync(chain.Gateway, link.Id, "settled")).Length == 1, TimeSpan.FromSeconds(30));
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

    [Fact]
    public async Task A_thousand_concurrent_copies_in_v1_and_v2_through_the_official_facilitator_are_served_and_settled_once()
    {
        const int copies = 1_000;
        var link = await chain.CreateLinkAsync(price: "0.003", facilitator: "remote");
        var payment = new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = chain.PayerKey };
        // One authorization, two encodings: the v2 PAYMENT-SIGNATURE and the v1 X-PAYMENT carry the same nonce.
        var v2 = payment.V2Header();
        var v1 = payment.V1Header(ChainFixture.V1Network);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(120) };
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sends = Enumerable.Range(0, copies).Select(async i =>
        {
            await start.Task;
            using var request = new HttpRequestMessage(HttpMethod.Get, link.Url);
            request.Headers.TryAddWithoutValidation(i % 2 == 0 ? "PAYMENT-SIGNATURE" : "X-PAYMENT", i % 2 == 0 ? v2 : v1);
            using var response = await http.SendAsync(request);
            // A 402's x402 error, or any other refusal's problem code, so a failing run says what happened.
            var body = await response.Content.ReadAsStringAsync();
            var error = (int)response.StatusCode == 402
                ? System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("error").GetString()
                : (int)response.StatusCode == 200 ? null : body;
            return ((int)response.StatusCode, error, i % 2);
        }).ToList();
        var clock = Stopwatch.StartNew();
        start.SetResult();
        var results = await Task.WhenAll(sends);
        var elapsed = clock.Elapsed;
        var statuses = results.Select(r => r.Item1).ToArray();
        // Every refusal is the replay guard's, in either encoding: none was refused for being malformed or mismatched.
        Assert.All(results.Where(r => r.Item1 == 402), r => Assert.Contains(r.error, new[] { "payment_in_flight", "invalid_exact_evm_nonce_already_used" }));
        Assert.Contains(results, r => r.Item1 == 402 && r.Item3 == 1);
        Assert.Contains(results, r => r.Item1 == 402 && r.Item3 == 0);

        var transfers = await chain.Rpc.TransferLogCountAsync(chain.Token, link.PayTo);
        output.WriteLine($"replay drill (1000, v1+v2, official facilitator): {elapsed.TotalMilliseconds:0} ms; " +
            $"200={statuses.Count(s => s == 200)} 402={statuses.Count(s => s == 402)} other={statuses.Count(s => s is not (200 or 402))}; " +
            $"upstream calls={chain.Upstream.Hits(link.UpstreamPath)}; on-chain transfers={transfers}; " +
            $"others: {string.Join(" | ", results.Where(r => r.Item1 is not (200 or 402)).Select(r => $"{r.Item1} {r.error}").Distinct())}");
        Assert.Equal(1, statuses.Count(s => s == 200));
        // On a starved machine the official facilitator can fail one copy's settlement: that copy answers 503 with its
        // nonce released ("retry with the same payment"), and one later copy is served instead. Nothing else may
        // happen, and the money moves once whatever the timing.
        var released = statuses.Count(s => s == 503);
        Assert.Equal(copies - 1 - released, statuses.Count(s => s == 402));
        Assert.All(results.Where(r => r.Item1 == 503), r => Assert.Contains("\"code\"", r.error, StringComparison.Ordinal));
        Assert.InRange(chain.Upstream.Hits(link.UpstreamPath), 1, 1 + released);
        Assert.Equal(1, transfers);
        Assert.Equal(3_000, await chain.BalanceAsync(link.PayTo));
        var settled = Assert.Single(await EndToEnd.PaymentsApiClient.ListAsync(chain.Gateway, link.Id, "settled"));
        Assert.Equal("remote", settled.GetProperty("facilitator").GetString());
    }
}
