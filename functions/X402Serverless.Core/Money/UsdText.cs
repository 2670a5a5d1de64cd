using System.Globalization;

namespace X402Serverless.Core.Money;

/// <summary>Why a text is not a <see cref="Usd"/> amount.</summary>
public enum UsdParseError
{
    None,
    Missing,
    Malformed,
    TooPrecise,
}

/// <summary>
/// The one parser of dollar amounts: "0.01", "$5", "-3.50", "1.250000". At most 9 integer digits (under a billion
/// dollars, far inside the micro-dollar range); digits beyond the sixth decimal must be zeros, never rounded.
/// </summary>
public static class UsdText
{
    private const int MaxIntegerDigits = 9;
    private const int MaxFractionDigits = 18;

    public static UsdParseError TryParse(string? text, out Usd value)
    {
        value = Usd.Zero;
        if (string.IsNullOrWhiteSpace(text))
        {
            return UsdParseError.Missing;
        }
        var s = text.AsSpan().Trim();
        var negative = s.StartsWith("-");
        if (negative)
        {
            s = s[1..];
        }
        if (s.StartsWith("$"))
        {
            s = s[1..];
        }
        var dot = s.IndexOf('.');
        var intPart = dot < 0 ? s : s[..dot];
        var fracPart = dot < 0 ? ReadOnlySpan<char>.Empty : s[(dot + 1)..];
        if (intPart.Length is 0 or > MaxIntegerDigits || fracPart.Length > MaxFractionDigits || (dot >= 0 && fracPart.Length == 0)
            || !AllDigits(intPart) || !AllDigits(fracPart))
        {
            return UsdParseError.Malformed;
        }
        var fraction = fracPart.TrimEnd('0');
        if (fraction.Length > Usd.Decimals)
        {
            return UsdParseError.TooPrecise;
        }
        var micros = long.Parse(intPart, NumberStyles.None, CultureInfo.InvariantCulture) * 1_000_000;
        if (fraction.Length > 0)
        {
            micros += long.Parse(fraction, NumberStyles.None, CultureInfo.InvariantCulture) * Pow10(Usd.Decimals - fraction.Length);
        }
        value = Usd.FromMicros(negative ? -micros : micros);
        return UsdParseError.None;
    }

    /// <summary>What to send instead, for a problem's detail.</summary>
    public static string Explain(UsdParseError error) => error switch
    {
        UsdParseError.Missing => "a USD decimal string such as \"0.01\" is required.",
        UsdParseError.TooPrecise => "USD amounts have at most 6 decimals (one micro-dollar, $0.000001).",
        _ => "send a USD decimal string such as \"0.01\" (digits, optional '.', at most 9 integer digits and 6 decimals).",
    };

    private static bool AllDigits(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }
        return true;
    }

    private static long Pow10(int n)
    {
        long r = 1;
        for (var i = 0; i < n; i++)
        {
            r *= 10;
        }
        return r;
    }
}
