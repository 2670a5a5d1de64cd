using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.Permit2;

/// <summary>
/// A Permit2 nonce spent through another spender leaves nothing on chain that names it. Presented, such a permit is
/// refused at once from Permit2's nonceBitmap (no reservation, no upstream, no log search); a queued job for one ends
/// failed once the chain is past its deadline with no settle of it found, never retried for ever.
/// </summary>
[Collection(ChainGroup.Name)]
public sealed class Permit2SpentElsewhereTests(ChainFixture chain)
{
    [Fact]
    public async Task A_permit_whose_nonce_another_spender_used_is_refused_at_once_with_a_bounded_number_of_rpc_calls()
    {
        await using var rpc = await RpcProxy.StartAsync(chain.RpcUrl);
        var settings = chain.GatewaySettings(chain.FacilitatorUrl);
        settings["X402:Networks:0:RpcUrl"] = rpc.Url;
        settings["X402:Networks:0:LogRangeBlocks"] = "5"; // a full-window log search would be many calls here
        settings["X402:Settlement:GasWalletKey"] = await chain.FundedWalletAsync();
        await using var gateway = await GatewayHost.StartAsync(settings);
        var link = await Permit2LinkAsync(gateway);
        var payerKey = await chain.Permit2PayerAsync();
        var payment = new Permit2PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = payerKey };
        await Permit2OtherSpender.SpendAsync(chain.Rpc, chain.Token, payerKey, payment.Nonce);

        for (var attempt = 0; attempt < 3; attempt++)
        {
            var before = rpc.TotalCalls;
            using var response = await SendAsync(link.Url, payment.V2Header());

            Assert.Equal("authorization_consumed_elsewhere", await ErrorOfAsync(response));
            // The nonceBitmap word and the payer's code, read together; no log is searched, nothing is sent.
            Assert.InRange(rpc.TotalCalls - before, 1, 2);
        }
        Assert.Equal(0, rpc.Calls("eth_getLogs"));
        Assert.Equal(0, rpc.Calls("eth_sendRawTransaction"));
        Assert.Equal(0, chain.Upstream.Hits(link.UpstreamPath));
        var id = PaymentId.For(84532, chain.Token, payment.Payer, Core.Evm.AbiWord.UInt256(payment.Nonce));
        Assert.Null(await gateway.Services.GetRequiredService<IPaymentStore>().GetAsync(id, default));
    }

    [Fact]
    public async Task A_queued_job_whose_nonce_another_spender_used_ends_failed_once_the_chain_is_past_its_deadline()
    {
        // A chain of its own: its clock is moved past the permit's deadline, which the shared chain's other tests must not see.
        var own = new ChainFixture();
        await own.InitializeAsync();
        try
        {
            var settings = own.GatewaySettings(own.FacilitatorUrl);
            settings["X402:Settlement:RunWorker"] = "false"; // the job runs when this test delivers it, as the queue trigger does
            settings["X402:Settlement:DeferredMinimumWindowSeconds"] = "5";
            await using var gateway = await GatewayHost.StartAsync(GatewayHost.UnderFunctionsHost(settings));
            var link = await Permit2LinkAsync(gateway, own, settlement: "deferred");
            var payerKey = await own.Permit2PayerAsync();
            var payment = new Permit2PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = payerKey };
            using (var served = await SendAsync(link.Url, payment.V2Header()))
            {
                Assert.Equal(HttpStatusCode.OK, served.StatusCode); // served first; the job is queued
            }
            var id = PaymentId.For(84532, own.Token, payment.Payer, Core.Evm.AbiWord.UInt256(payment.Nonce));
            var store = gateway.Services.GetRequiredService<IPaymentStore>();
            Assert.Equal(PaymentStatus.Pending, (await store.GetAsync(id, default))!.Status);
            await Permit2OtherSpender.SpendAsync(own.Rpc, own.Token, payerKey, payment.Nonce);

            // Before the deadline the spent nonce is no verdict yet (a settle of ours could still be found): retried.
            Assert.Equal(HttpStatusCode.InternalServerError, await RunJobAsync(gateway, id));
            Assert.Equal(PaymentStatus.Pending, (await store.GetAsync(id, default))!.Status);

            await own.Rpc.CallAsync("evm_increaseTime", 3600);
            await own.Rpc.CallAsync("evm_mine");
            Assert.Equal(HttpStatusCode.OK, await RunJobAsync(gateway, id));

            var failed = (await store.GetAsync(id, default))!;
            Assert.Equal(PaymentStatus.Failed, failed.Status);
            Assert.Equal("authorization_consumed_elsewhere", failed.FailureReason);
            Assert.Equal(0, await own.BalanceAsync(link.PayTo));
        }
        finally
        {
            await own.DisposeAsync();
        }
    }

    private static async Task<HttpStatusCode> RunJobAsync(GatewayHost gateway, string id)
    {
        var message = JsonSerializer.Serialize(JsonSerializer.Serialize(new { paymentId = id }));
        var invocation = "{\"Data\":{\"job\":" + message + "},\"Metadata\":{\"DeliveryCount\":\"1\",\"MessageId\":\"\\\"" + id
            + "\\\"\",\"sys\":{\"MethodName\":\"SettlementJob\",\"UtcNow\":\"2026-11-21T10:00:00Z\"}}}";
        using var client = gateway.Client();
        using var response = await client.PostAsync("/SettlementJob", new StringContent(invocation, Encoding.UTF8, "application/json"));
        return response.StatusCode;
    }

    private Task<PaidTestLink> Permit2LinkAsync(GatewayHost gateway) => Permit2LinkAsync(gateway, chain);

    private static async Task<PaidTestLink> Permit2LinkAsync(GatewayHost gateway, ChainFixture on, string settlement = "sync")
    {
        var path = $"/ok/{Guid.NewGuid():N}";
        var payTo = ChainFixture.NewAddress();
        var (id, url) = await gateway.CreateLinkAsync(new
        {
            upstream = on.Upstream.BaseUrl + path, price = "0.01", payTo = payTo.ToString(), name = "Permit2 API", facilitator = "builtin",
            settlement, deferredPayers = "any", permit2Networks = new[] { ChainFixture.V2Network },
        });
        return new PaidTestLink(id, url, path, payTo);
    }
}
