using System.Net;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.Drills;

/// <summary>
/// Drill: a sync payment whose transaction is broadcast but not mined before the receipt timeout. The content is
/// withheld (503 settlement_pending) and owed; once the transaction lands, retrying the same payment delivers it
/// exactly once — the payer is never charged without content.
/// </summary>
[Collection(ChainGroup.Name)]
public sealed class PendingSettlementDrill(ChainFixture chain)
{
    [Fact]
    public async Task A_payment_settled_after_its_request_gave_up_redeems_its_content_once_with_the_same_header()
    {
        var settings = chain.GatewaySettings(chain.FacilitatorUrl);
        settings["X402:Settlement:GasWalletKey"] = await chain.FundedWalletAsync();
        settings["X402:Settlement:ReceiptTimeoutSeconds"] = "1";
        await using var gateway = await GatewayHost.StartAsync(settings);
        var link = await chain.CreateLinkAsync(gateway: gateway, facilitator: "builtin");
        var header = new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = chain.PayerKey }.V2Header();
        var store = gateway.Services.GetRequiredService<IPaymentStore>();

        await chain.Rpc.CallAsync("evm_setAutomine", false);
        try
        {
            using (var withheld = await SendAsync(link.Url, header))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, withheld.StatusCode);
                Assert.Equal("settlement_pending", await ProblemCodeAsync(withheld));
            }
            using (var stillPending = await SendAsync(link.Url, header))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, stillPending.StatusCode);
                Assert.Equal("settlement_pending", await ProblemCodeAsync(stillPending));
            }
            Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath)); // called once, its answer held back
        }
        finally
        {
            await chain.Rpc.CallAsync("evm_setAutomine", true);
            await chain.Rpc.CallAsync("evm_mine");
        }

        // The worker confirms the transaction that landed.
        PaymentRecord? payment = null;
        for (var i = 0; i < 200 && payment?.Status != PaymentStatus.Settled; i++)
        {
            await Task.Delay(50);
            payment = (await store.ListAsync((await gateway.Services.GetRequiredService<ILinkStore>().FindAsync(link.Id, default))!.OrganisationId,
                new PaymentQuery(Limit: 10), default)).SingleOrDefault(p => p.LinkId == link.Id);
        }
        Assert.Equal(PaymentStatus.Settled, payment?.Status);
        Assert.True(payment!.ContentOwed);

        using (var redeemed = await SendAsync(link.Url, header))
        {
            Assert.Equal(HttpStatusCode.OK, redeemed.StatusCode);
            Assert.Equal(payment.Transaction, SettlementOf(redeemed).GetProperty("transaction").GetString());
        }
        using (var again = await SendAsync(link.Url, header))
        {
            Assert.Equal(HttpStatusCode.PaymentRequired, again.StatusCode);
            Assert.Equal("invalid_exact_evm_nonce_already_used", await ErrorOfAsync(again));
        }
        Assert.Equal(2, chain.Upstream.Hits(link.UpstreamPath));
        Assert.Equal(10_000, await chain.BalanceAsync(link.PayTo));
        Assert.False((await store.GetAsync(payment.Id, default))!.ContentOwed);
    }
}
