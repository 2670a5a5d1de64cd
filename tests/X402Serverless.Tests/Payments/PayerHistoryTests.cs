using X402Serverless.Core.Payments;

namespace X402Serverless.Tests.Payments;

/// <summary>Who a deferred link serves before settlement.</summary>
public sealed class PayerHistoryTests
{
    [Theory]
    [InlineData(false, false, 0, "returning", false)] // new to this provider
    [InlineData(false, false, 0, "any", true)]
    [InlineData(true, false, 0, "returning", true)]
    [InlineData(true, false, 9, "returning", true)]
    [InlineData(true, false, 10, "returning", false)] // as many unsettled as allowed already
    [InlineData(true, false, 10, "any", false)]
    [InlineData(true, true, 0, "returning", false)] // left a deferred payment unpaid before
    [InlineData(true, true, 0, "any", false)]
    public void Content_first_goes_only_to_wallets_within_their_bounds(bool settledHere, bool unpaid, int inFlight, string deferredPayers, bool mayDefer) =>
        Assert.Equal(mayDefer, new PayerHistory(settledHere, unpaid, inFlight).MayDefer(deferredPayers, maxInFlight: 10));
}
