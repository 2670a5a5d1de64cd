using System.Numerics;
using X402Serverless.Core.Facilitation;

namespace X402Serverless.Tests.Chain;

/// <summary>A replacement beats the stuck transaction's tip and fee cap by more than the 10% nodes ask, or meets the chain's quote.</summary>
public sealed class FeeBumpTests
{
    [Theory]
    [InlineData(1_000_000, 3_000_000, 1_000_000, 3_000_000)] // quote unchanged: an eighth more each
    [InlineData(1_000_000, 3_000_000, 5_000_000, 40_000_000)] // the chain moved up: its quote
    [InlineData(0, 0, 0, 0)] // nothing to take an eighth of: one wei more
    [InlineData(8_000_000, 8_000_000, 1, 2)] // the cap never falls below the tip
    public void Both_fees_rise_past_the_nodes_replacement_margin(long stuckTip, long stuckMaxFee, long quoteTip, long quoteMaxFee)
    {
        var (tip, maxFee) = FeeBump.Next(stuckTip, stuckMaxFee, quoteTip, quoteMaxFee);

        Assert.True(tip * 10 > new BigInteger(stuckTip) * 11 || (stuckTip == 0 && tip > 0), $"tip {tip}");
        Assert.True(maxFee * 10 > new BigInteger(stuckMaxFee) * 11 || (stuckMaxFee == 0 && maxFee > 0), $"max fee {maxFee}");
        Assert.True(tip >= quoteTip && maxFee >= quoteMaxFee);
        Assert.True(maxFee >= tip);
    }
}
