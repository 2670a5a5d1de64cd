using System.Globalization;

namespace X402Serverless.Core.Pricing;

/// <summary>Micro-USD (1e-6 USD) amounts, the ledger's unit, to and from USD decimal strings.</summary>
public static class Money
{
    public const int Decimals = 6;

    /// <summary>Parses a USD decimal string ("5", "0.25") into micro-USD; throws on anything not exactly representable.</summary>
    public static long Parse(string usd) =>
        (long)(UsdPrice.Parse(usd).ToAtomic(Decimals) ?? throw new FormatException($"'{usd}' has more than {Decimals} decimals."));

    public static bool TryParse(string? usd, out long micros)
    {
        micros = 0;
        if (!UsdPrice.TryParse(usd, out var price, out _) || price.ToAtomic(Decimals) is not { } atomic || atomic > long.MaxValue)
        {
            return false;
        }
        micros = (long)atomic;
        return true;
    }

    /// <summary>"1.25", "0.000001", "-3.50": at least two decimals, no trailing zeros beyond them.</summary>
    public static string Format(long micros)
    {
        var sign = micros < 0 ? "-" : "";
        var abs = System.Numerics.BigInteger.Abs(micros);
        var whole = abs / 1_000_000;
        var fraction = ((long)(abs % 1_000_000)).ToString("D6", CultureInfo.InvariantCulture).TrimEnd('0').PadRight(2, '0');
        return $"{sign}{whole.ToString(CultureInfo.InvariantCulture)}.{fraction}";
    }
}
