using System.Diagnostics.CodeAnalysis;
using System.Numerics;

namespace X402Serverless.Core.Pricing;

/// <summary>
/// A price in US dollars as a canonical decimal string ("0.01"). Conversion to a token's atomic units is exact
/// integer arithmetic: a price that would need rounding for a token's decimals is refused, never rounded.
/// </summary>
public sealed record UsdPrice
{
    private const int MaxIntegerDigits = 9; // up to $999,999,999 a call
    private const int MaxFractionDigits = 18;

    private UsdPrice(BigInteger integer, string fraction)
    {
        Integer = integer;
        Fraction = fraction;
    }

    private BigInteger Integer { get; }

    // Fraction digits without trailing zeros.
    private string Fraction { get; }

    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out UsdPrice? price, out string? error)
    {
        price = null;
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "price is required, as a USD decimal string such as \"0.01\".";
            return false;
        }
        var s = text.Trim();
        if (s.StartsWith('$'))
        {
            s = s[1..];
        }
        var dot = s.IndexOf('.');
        var intPart = dot < 0 ? s : s[..dot];
        var fracPart = dot < 0 ? "" : s[(dot + 1)..];
        if (intPart.Length == 0 || intPart.Length > MaxIntegerDigits || fracPart.Length > MaxFractionDigits
            || (dot >= 0 && fracPart.Length == 0) || !intPart.All(char.IsAsciiDigit) || !fracPart.All(char.IsAsciiDigit))
        {
            error = "price must be a USD decimal string such as \"0.01\" (digits, optional '.', at most 9 integer digits).";
            return false;
        }
        var integer = BigInteger.Parse(intPart, System.Globalization.CultureInfo.InvariantCulture);
        var fraction = fracPart.TrimEnd('0');
        if (integer.IsZero && fraction.Length == 0)
        {
            error = "price must be greater than zero.";
            return false;
        }
        price = new UsdPrice(integer, fraction);
        return true;
    }

    public static UsdPrice Parse(string text) =>
        TryParse(text, out var price, out var error) ? price : throw new FormatException(error);

    /// <summary>The price in atomic units of a token with <paramref name="decimals"/> decimals, or null if it is not representable.</summary>
    public BigInteger? ToAtomic(int decimals)
    {
        if (Fraction.Length > decimals)
        {
            return null;
        }
        var scaled = Integer * BigInteger.Pow(10, decimals);
        var frac = Fraction.Length == 0
            ? BigInteger.Zero
            : BigInteger.Parse(Fraction, System.Globalization.CultureInfo.InvariantCulture) * BigInteger.Pow(10, decimals - Fraction.Length);
        return scaled + frac;
    }

    /// <summary>Canonical text: no '$', no trailing zeros beyond two decimals ("0.01", "1.00", "0.001").</summary>
    public override string ToString()
    {
        var fraction = Fraction.PadRight(2, '0');
        return $"{Integer}.{fraction}";
    }
}
