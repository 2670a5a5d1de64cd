using System.Globalization;
using System.Numerics;

namespace X402Serverless.Core.Money;

/// <summary>
/// The one way an amount is written as dollars: "0.01", "12.50", "0.000001", "-3.50" — at least two decimals, no
/// trailing zeros beyond them, integer arithmetic only. A USD stablecoin's atomic units are shown at the token's own
/// precision, so a history of finer-grained tokens stays exact.
/// </summary>
public static class DollarText
{
    public static string Of(BigInteger units, int decimals)
    {
        var abs = BigInteger.Abs(units);
        var whole = BigInteger.DivRem(abs, BigInteger.Pow(10, decimals), out var remainder);
        var fraction = decimals == 0 ? "" : remainder.ToString(CultureInfo.InvariantCulture).PadLeft(decimals, '0').TrimEnd('0');
        return $"{(units.Sign < 0 ? "-" : "")}{whole.ToString(CultureInfo.InvariantCulture)}.{fraction.PadRight(2, '0')}";
    }

    public static string Of(TokenAmount amount, int decimals) => Of(amount.Units, decimals);

    /// <summary>Adds amounts of tokens with different decimals exactly, by scaling all to the finest of them.</summary>
    public static string Sum(IEnumerable<(TokenAmount Amount, int Decimals)> amounts)
    {
        var list = amounts.ToList();
        var decimals = list.Count == 0 ? 0 : list.Max(a => a.Decimals);
        var sum = BigInteger.Zero;
        foreach (var (amount, d) in list)
        {
            sum += amount.Units * BigInteger.Pow(10, decimals - d);
        }
        return Of(sum, decimals);
    }
}
