namespace X402Serverless.Core.Payments;

/// <summary>
/// What an x402 payment buys. Content owed by a payment is delivered only where it was bought: a pass purchase's
/// payment never redeems a call, and a call's payment never issues a pass, even when the two prices are equal.
/// </summary>
public static class PaymentPurposes
{
    /// <summary>A paid link's answer (or an inbox message).</summary>
    public const string Content = "content";

    /// <summary>A pass.</summary>
    public const string Pass = "pass";
}
