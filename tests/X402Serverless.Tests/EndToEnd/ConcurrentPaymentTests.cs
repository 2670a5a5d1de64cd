using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.EndToEnd;

[Collection(ChainGroup.Name)]
public sealed class ConcurrentPaymentTests(ChainFixture chain)
{
    [Fact]
    public async Task The_same_payment_sent_50_times_at_once_is_served_and_settled_exactly_once()
    {
        var link = await chain.CreateLinkAsync(price: "0.05");
        var payerBefore = await chain.BalanceAsync(chain.Payer);
        var header = new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = chain.PayerKey }.V2Header();

        var statuses = await SendConcurrentlyAsync(link.Url, header, 50);

        Assert.Equal(1, statuses.Count(s => s == 200));
        Assert.Equal(49, statuses.Count(s => s == 402));
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
        Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, link.PayTo));
        Assert.Equal(50_000, await chain.BalanceAsync(link.PayTo));
        Assert.Equal(payerBefore - 50_000, await chain.BalanceAsync(chain.Payer));
    }
}
