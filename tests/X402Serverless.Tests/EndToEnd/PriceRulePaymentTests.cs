using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.EndToEnd;

/// <summary>A payment signed for one path's price buys that path only: it cannot be spent on a dearer rule's path.</summary>
[Collection(ChainGroup.Name)]
public sealed class PriceRulePaymentTests(ChainFixture chain)
{
    [Fact]
    public async Task A_payment_for_the_cheap_path_is_refused_on_the_premium_path_and_then_buys_the_cheap_one()
    {
        var payTo = ChainFixture.NewAddress();
        var (_, url) = await chain.Gateway.CreateLinkAsync(new
        {
            upstream = chain.Upstream.BaseUrl + $"/ok/{Guid.NewGuid():N}",
            price = "0.001",
            payTo = payTo.ToString(),
            facilitator = "builtin",
            priceRules = new object[] { new { pathPrefix = "/premium", price = "0.50" } },
        });
        var cheap = new PaymentBuilder { Requirement = await RequirementAsync(url + "/basic"), PayerKey = chain.PayerKey }.V2Header();

        using var premium = await SendAsync(url + "/premium/report", cheap);
        Assert.Equal(402, (int)premium.StatusCode);
        Assert.Equal(0, await chain.Rpc.TransferLogCountAsync(chain.Token, payTo));

        // The refusal consumed nothing: the same payment still buys the path it was priced for.
        using var basic = await SendAsync(url + "/basic", cheap);
        Assert.Equal(200, (int)basic.StatusCode);
        Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, payTo));
        Assert.Equal(1_000, await chain.BalanceAsync(payTo));
    }
}
