using System.Diagnostics;
using System.Numerics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Tests.EndToEnd;
using X402Serverless.Tests.Support;
using Xunit.Abstractions;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.Drills;

/// <summary>Drill: the chain's RPC node goes away while deferred settlements are due.</summary>
[Collection(ChainGroup.Name)]
public sealed class RpcOutageDrill(ChainFixture chain, ITestOutputHelper output)
{
    [Fact]
    public async Task Jobs_wait_out_an_rpc_outage_and_settle_when_it_ends()
    {
        await using var proxy = await RpcProxy.StartAsync(chain.RpcUrl);
        await using var gateway = await StartGatewayAsync(proxy);
        var link = await chain.CreateLinkAsync(gateway: gateway, settlement: "deferred", facilitator: "builtin", deferredPayers: "any");
        var requirement = await RequirementAsync(link.Url);

        proxy.Down = true;
        using var served = await SendAsync(link.Url, new PaymentBuilder { Requirement = requirement, PayerKey = chain.PayerKey }.V2Header());
        Assert.Equal(200, (int)served.StatusCode);
        var id = served.Headers.GetValues("X-Payment-Id").Single();
        // The job has tried and been told the node is down: observable on the payment, not a matter of waiting long enough.
        var during = await PaymentsApiClient.WaitUntilAsync(gateway, id,
            p => p.GetProperty("attempts").GetInt32() >= 1 && p.GetProperty("lastError").ValueKind == JsonValueKind.String, TimeSpan.FromSeconds(30));
        Assert.Equal("pending", during.GetProperty("status").GetString());
        Assert.Equal("rpc_unavailable", during.GetProperty("lastError").GetString());
        Assert.True(during.GetProperty("attempts").GetInt32() >= 1);

        proxy.Down = false;
        var clock = Stopwatch.StartNew();
        var after = await PaymentsApiClient.WaitForEndAsync(gateway, id, TimeSpan.FromSeconds(20));
        output.WriteLine($"rpc outage drill: {during.GetProperty("attempts").GetInt32()} attempts during the outage; settled {clock.ElapsedMilliseconds} ms after the node came back");
        Assert.Equal("settled", after.GetProperty("status").GetString());
        Assert.Equal(10_000, await chain.BalanceAsync(link.PayTo));
    }

    [Fact]
    public async Task A_job_whose_authorization_runs_out_during_the_outage_waits_for_the_chain_then_expires_and_is_never_settled_late()
    {
        await using var proxy = await RpcProxy.StartAsync(chain.RpcUrl);
        await using var gateway = await StartGatewayAsync(proxy);
        var link = await chain.CreateLinkAsync(gateway: gateway, settlement: "deferred", facilitator: "builtin", deferredPayers: "any");
        var payment = new PaymentBuilder
        {
            Requirement = await RequirementAsync(link.Url),
            PayerKey = chain.PayerKey,
            // Past the 6 s settlement buffer in ~14 s: long enough for a slow machine to be served, short for a test.
            ValidBefore = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 20,
        };

        proxy.Down = true;
        using var served = await SendAsync(link.Url, payment.V2Header());
        Assert.Equal(200, (int)served.StatusCode);
        var id = served.Headers.GetValues("X-Payment-Id").Single();

        // The authorization runs out while the node is down. Without the chain's word the job is not declared
        // expired (someone may have paid it before it ran out): it keeps asking.
        await Poll.UntilAsync(() => Task.FromResult(DateTimeOffset.UtcNow.ToUnixTimeSeconds() > payment.ValidBefore), TimeSpan.FromSeconds(60));
        var during = await PaymentsApiClient.WaitUntilAsync(gateway, id,
            p => p.GetProperty("lastError").ValueKind == JsonValueKind.String && p.GetProperty("attempts").GetInt32() >= 2, TimeSpan.FromSeconds(30));
        Assert.Equal("pending", during.GetProperty("status").GetString());
        Assert.Equal("rpc_unavailable", during.GetProperty("lastError").GetString());

        // The node answers again: the authorization is unused and out of time, so the job ends expired, never settled late.
        proxy.Down = false;
        var clock = Stopwatch.StartNew();
        var ended = await PaymentsApiClient.WaitForEndAsync(gateway, id, TimeSpan.FromSeconds(30));
        output.WriteLine($"rpc outage drill: job ended '{ended.GetProperty("status").GetString()}' {clock.ElapsedMilliseconds} ms after the node came back, {ended.GetProperty("attempts").GetInt32()} attempts");
        Assert.Equal("expired", ended.GetProperty("status").GetString());

        // Every path that could pick the job up again runs, and leaves it expired.
        var maintenance = gateway.Services.GetRequiredService<X402Serverless.Handler.Settlement.MaintenancePass>();
        await maintenance.RedispatchAsync(default);
        await maintenance.RecoverStaleAsync(default);
        Assert.Equal("expired", (await PaymentsApiClient.GetAsync(gateway, id)).GetProperty("status").GetString());
        Assert.Equal(0, await chain.BalanceAsync(link.PayTo));
        var state = await chain.Rpc.CallAsync("eth_call",
            new { to = chain.Token.ToLowerHex(), data = Hex.Encode(Eip3009Calls.AuthorizationState(chain.Payer, payment.Nonce)) }, "latest");
        Assert.Equal(BigInteger.Zero, new BigInteger(Hex.Decode(state.GetString()!), isUnsigned: true, isBigEndian: true));
    }

    private async Task<GatewayHost> StartGatewayAsync(RpcProxy proxy)
    {
        var settings = chain.GatewaySettings(chain.FacilitatorUrl);
        settings["X402:Networks:0:RpcUrl"] = proxy.Url;
        settings["X402:Settlement:GasWalletKey"] = await chain.FundedWalletAsync();
        settings["X402:Settlement:ReceiptTimeoutSeconds"] = "3";
        // The expiry drill serves a 20-second authorization content-first on purpose, to watch it run out.
        settings["X402:Settlement:DeferredMinimumWindowSeconds"] = "5";
        return await GatewayHost.StartAsync(settings);
    }
}
