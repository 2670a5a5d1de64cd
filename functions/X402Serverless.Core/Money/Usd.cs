using System.Numerics;
using System.Text.Json.Serialization;

namespace X402Serverless.Core.Money;

/// <summary>
/// An amount of US dollars in whole micro-dollars (1e-6 USD), the one money value of the product: prices, caps,
/// allowances, credits and ledger legs. Parsed once at the edge, formatted once here; never floating point.
/// One micro-dollar is one atomic unit of a 6-decimal USD stablecoin, so a USDC amount converts without rounding.
/// </summary>
[JsonConverter(typeof(UsdJsonConverter))]
[System.ComponentModel.TypeConverter(typeof(UsdTypeConverter))]
public readonly record struct Usd : IComparable<Usd>
{
    public const int Decimals = 6;
    private const long MicrosPerCent = 10_000;

    private Usd(long micros) => Micros = micros;

    public long Micros { get; }

    public static Usd Zero => default;

    public bool IsPositive => Micros > 0;

    public bool IsNegative => Micros < 0;

    public static Usd FromMicros(long micros) => new(micros);

    public static Usd FromCents(long cents) => new(checked(cents * MicrosPerCent));

    /// <summary>Whole cents (what a card charge takes), or null when the amount has a fraction of a cent.</summary>
    public long? WholeCents => Micros % MicrosPerCent == 0 ? Micros / MicrosPerCent : null;

    /// <summary>The share of this amount in basis points (1/100 of a percent), rounded down to the micro-dollar.</summary>
    public Usd Share(int basisPoints) => new((long)((BigInteger)Micros * basisPoints / 10_000));

    /// <summary>This amount in atomic units of a token with <paramref name="decimals"/> decimals; null when not exact.</summary>
    public TokenAmount? ToToken(int decimals)
    {
        if (decimals >= Decimals)
        {
            return new TokenAmount(Micros * BigInteger.Pow(10, decimals - Decimals));
        }
        var divisor = BigInteger.Pow(10, Decimals - decimals);
        return Micros % divisor == 0 ? new TokenAmount(Micros / divisor) : null;
    }

    /// <summary>A token amount in dollars (the token being a USD stablecoin); null when finer than a micro-dollar or too large.</summary>
    public static Usd? FromToken(TokenAmount amount, int decimals)
    {
        BigInteger micros;
        if (decimals >= Decimals)
        {
            var divisor = BigInteger.Pow(10, decimals - Decimals);
            if (amount.Units % divisor != 0)
            {
                return null;
            }
            micros = amount.Units / divisor;
        }
        else
        {
            micros = amount.Units * BigInteger.Pow(10, Decimals - decimals);
        }
        return micros >= long.MinValue && micros <= long.MaxValue ? new Usd((long)micros) : null;
    }

    public static bool TryParse(string? text, out Usd value) => UsdText.TryParse(text, out value) == UsdParseError.None;

    /// <summary>Parses text written by people or by <see cref="ToString"/>; throws on anything else (configuration, stored values).</summary>
    public static Usd Parse(string text) => UsdText.TryParse(text, out var value) switch
    {
        UsdParseError.None => value,
        var error => throw new FormatException($"'{text}' is not a USD amount: {UsdText.Explain(error)}"),
    };

    /// <summary>"1.25", "0.000001", "-3.50": at least two decimals, no trailing zeros beyond them.</summary>
    public override string ToString() => DollarText.Of(Micros, Decimals);

    public int CompareTo(Usd other) => Micros.CompareTo(other.Micros);

    public static Usd operator +(Usd a, Usd b) => new(checked(a.Micros + b.Micros));

    public static Usd operator -(Usd a, Usd b) => new(checked(a.Micros - b.Micros));

    public static Usd operator -(Usd a) => new(checked(-a.Micros));

    public static bool operator <(Usd a, Usd b) => a.Micros < b.Micros;

    public static bool operator >(Usd a, Usd b) => a.Micros > b.Micros;

    public static bool operator <=(Usd a, Usd b) => a.Micros <= b.Micros;

    public static bool operator >=(Usd a, Usd b) => a.Micros >= b.Micros;
}
