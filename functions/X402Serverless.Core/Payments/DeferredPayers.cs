namespace X402Serverless.Core.Payments;

/// <summary>
/// Which wallets a deferred link serves before settlement. Content-first is credit extended to the payer, and a
/// wallet can always make its authorization unpayable (spend the balance, burn the nonce) after being served.
/// </summary>
public static class DeferredPayers
{
    /// <summary>The default: only wallets that have settled a payment here before; the rest are served sync.</summary>
    public const string Returning = "returning";

    /// <summary>Every wallet (the provider accepts the exposure of one unpaid call per new wallet).</summary>
    public const string Any = "any";

    public static bool IsValid(string? value) => value is Returning or Any;
}
