using System.Globalization;
using System.Text.RegularExpressions;
using X402Serverless.Core.Money;

namespace X402Serverless.Core.Passes;

/// <summary>
/// What a sign-in-with-x proof must say to spend a payer account's credits: the most it may cost and the method,
/// in the statement the wallet shows and signs ("Pay up to 0.01 USD for GET from my pass or credits."). A proof
/// spends money only as far as its signer agreed: not on a dearer path or method of the link, nor after the
/// provider raised the price. A pass call is counted, not priced, so spending a pass needs no such statement.
/// </summary>
public static partial class CreditSpendStatement
{
    /// <summary>The statement for a call costing at most <paramref name="maxPrice"/> with <paramref name="method"/>.</summary>
    public static string For(Usd maxPrice, string method) =>
        string.Create(CultureInfo.InvariantCulture, $"Pay up to {maxPrice} USD for {method.ToUpperInvariant()} from my pass or credits.");

    /// <summary>
    /// Null when <paramref name="statement"/> allows a <paramref name="method"/> call at <paramref name="price"/>;
    /// otherwise a stable code and a sentence saying what to sign instead.
    /// </summary>
    public static (string Code, string Message)? Check(string? statement, string method, Usd price)
    {
        var expected = For(price, method);
        if (statement is null || Pattern().Match(statement) is not { Success: true } match
            || !Usd.TryParse(match.Groups["amount"].Value, out var max))
        {
            return ("invalid_siwx_statement", $"To pay from credits, the proof's statement must be \"{expected}\" (it bounds what the proof may spend).");
        }
        if (!string.Equals(match.Groups["method"].Value, method, StringComparison.OrdinalIgnoreCase))
        {
            return ("invalid_siwx_statement", $"The proof allows a {match.Groups["method"].Value} call, not {method.ToUpperInvariant()}; sign \"{expected}\".");
        }
        if (max < price)
        {
            return ("siwx_amount_too_low", $"The call costs {price} USD and the proof allows up to {max} USD; sign \"{expected}\".");
        }
        return null;
    }

    [GeneratedRegex("^Pay up to (?<amount>[0-9]{1,12}(\\.[0-9]{1,6})?) USD for (?<method>[A-Za-z]{1,16}) from my pass or credits\\.$")]
    private static partial Regex Pattern();
}
