using X402Serverless.Core.Kyc;
using X402Serverless.Core.Payers;
using X402Serverless.Core.Money;

namespace X402Serverless.Handler.Payers;

/// <summary>A payer's account as its organisation and the payer see it.</summary>
internal sealed record PayerView(
    string Id,
    string OrganisationId,
    string Name,
    Usd Credits,
    Usd MonthlyAllowance,
    Usd AllowanceLeft,
    Usd? MonthlyCap,
    Usd SpentThisMonth,
    Usd CreditLimit,
    string Period,
    KycView Kyc)
{
    public static PayerView From(Payer p, Usd credits, Usd allowanceLeft, Usd spent, string period, KycRecord? kyc) => new(
        p.Id, p.OrganisationId, p.Name, credits, p.MonthlyAllowance, allowanceLeft, p.MonthlyCap, spent, p.CreditLimit, period, KycView.From(kyc));
}

/// <summary>Where the payer's one-time verification stands; "none" until the provider's first decision.</summary>
internal sealed record KycView(string Status, string Level, string? Country, IReadOnlyList<string> Wallets, DateTimeOffset? DecidedAt)
{
    public static KycView From(KycRecord? r) => r is null
        ? new("none", KycLevels.None, null, [], null)
        : new(r.Status, r.Level, r.Country, r.Wallets, r.DecidedAt);
}
