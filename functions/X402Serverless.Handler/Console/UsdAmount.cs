using System.Globalization;
using System.Numerics;

namespace X402Serverless.Handler.ProviderConsole;

/// <summary>Atomic token amounts shown as US dollars, with integer arithmetic only (USDC is one dollar a token).</summary>
internal static class UsdAmount
{
    /// <summary>"0.01", "12.50", "0.000001": at least two decimals, no trailing zeros beyond them.</summary>
    public static string Format(BigInteger atomic, int decimals)
    {
        var sign = atomic.Sign < 0 ? "-" : "";
        var abs = BigInteger.Abs(atomic);
        var scale = BigInteger.Pow(10, decimals);
        var whole = BigInteger.DivRem(abs, scale, out var remainder);
        var fraction = decimals == 0 ? "" : remainder.ToString(CultureInfo.InvariantCulture).PadLeft(decimals, '0').TrimEnd('0');
        return $"{sign}{whole.ToString(CultureInfo.InvariantCulture)}.{fraction.PadRight(2, '0')}";
    }

    /// <summary>Adds amounts of tokens with different decimals exactly, by scaling all to the finest of them.</summary>
    public static string FormatSum(IEnumerable<(BigInteger Atomic, int Decimals)> amounts)
    {
        var list = amounts.ToList();
        var decimals = list.Count == 0 ? 0 : list.Max(a => a.Decimals);
        var sum = BigInteger.Zero;
        foreach (var (atomic, d) in list)
        {
            sum += atomic * BigInteger.Pow(10, decimals - d);
        }
        return Format(sum, decimals);
    }
}
