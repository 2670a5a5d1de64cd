using System.Numerics;

namespace X402Serverless.Core.Facilitation;

/// <summary>
/// The fees of a replacement transaction: nodes take a replacement only when both its tip and its fee cap beat the
/// one in their pool by a margin (geth and anvil: 10%), so each rises by an eighth at least, or to the chain's current
/// quote when that is higher.
/// </summary>
internal static class FeeBump
{
    public static (BigInteger Tip, BigInteger MaxFee) Next(BigInteger stuckTip, BigInteger stuckMaxFee, BigInteger quoteTip, BigInteger quoteMaxFee)
    {
        var tip = BigInteger.Max(quoteTip, stuckTip + stuckTip / 8 + 1);
        var maxFee = BigInteger.Max(quoteMaxFee, stuckMaxFee + stuckMaxFee / 8 + 1);
        return (tip, BigInteger.Max(maxFee, tip));
    }
}
