namespace X402Serverless.Core.Ledger;

/// <summary>
/// Ledger account names. Amounts are micro-USD (1e-6 USD, the same unit as USDC's atomic units). Clearing accounts
/// mirror money that came in from outside (cards, USDC) and run negative; every other account has a floor of zero
/// unless a credit limit lowers it.
/// </summary>
public static class Accounts
{
    public const string CardClearing = "clearing:card";
    public const string UsdcClearing = "clearing:usdc";
    public const string OperatorFees = "fees:operator";

    public static string Credits(string payerId) => $"credits:{payerId}";

    public static string Pool(string organisationId) => $"pool:{organisationId}";

    public static string Allowance(string organisationId, string payerId) => $"allowance:{organisationId}:{payerId}";

    public static string Earnings(string organisationId) => $"earnings:{organisationId}";

    public static string Hold(string holdId) => $"hold:{holdId}";

    /// <summary>A call's hold account: new with its call, credited once, emptied by its capture or release.</summary>
    public static bool IsHold(string account) => account.StartsWith("hold:", StringComparison.Ordinal);

    /// <summary>
    /// What <paramref name="account"/> owes after a card refund or dispute took back money it had already spent: a
    /// clearing account (it runs negative: the owed amount), so the spent-from account itself never goes below zero.
    /// </summary>
    public static string Owed(string account) => $"clearing:owed:{account}";

    public static bool IsClearing(string account) => account.StartsWith("clearing:", StringComparison.Ordinal);
}
