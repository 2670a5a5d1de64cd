using System.Globalization;
using System.Numerics;

namespace X402Serverless.Core.Money;

/// <summary>
/// An amount of one token in its atomic units (uint256 on chain), as x402 requirements and EIP-3009 authorizations
/// carry it. Which token is the context's (a network's asset); <see cref="Usd.ToToken"/> and <see cref="Usd.FromToken"/>
/// are the only conversions to and from dollars.
/// </summary>
public readonly record struct TokenAmount(BigInteger Units) : IComparable<TokenAmount>
{
    public static TokenAmount Zero => default;

    /// <summary>A decimal integer as the protocol writes amounts ("10000"); no sign, no exponent, no fraction.</summary>
    public static bool TryParse(string? text, out TokenAmount amount)
    {
        amount = Zero;
        if (string.IsNullOrEmpty(text) || text.Length > 78 || !text.All(char.IsAsciiDigit))
        {
            return false;
        }
        amount = new TokenAmount(BigInteger.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture));
        return true;
    }

    public static TokenAmount Parse(string text) =>
        TryParse(text, out var amount) ? amount : throw new FormatException($"'{text}' is not a token amount in atomic units.");

    public override string ToString() => Units.ToString(CultureInfo.InvariantCulture);

    public static TokenAmount operator +(TokenAmount a, TokenAmount b) => new(a.Units + b.Units);

    public int CompareTo(TokenAmount other) => Units.CompareTo(other.Units);

    public static bool operator <(TokenAmount a, TokenAmount b) => a.Units < b.Units;

    public static bool operator >(TokenAmount a, TokenAmount b) => a.Units > b.Units;

    public static bool operator <=(TokenAmount a, TokenAmount b) => a.Units <= b.Units;

    public static bool operator >=(TokenAmount a, TokenAmount b) => a.Units >= b.Units;
}
