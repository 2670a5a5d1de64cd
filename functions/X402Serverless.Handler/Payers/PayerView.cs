using X402Serverless.Core.Kyc;
using X402Serverless.Core.Payers;
using X402Serverless.Core.Pricing;

namespace X402Serverless.Handler.Payers;

/// <summary>A payer's account as its organisation and the payer see it; amounts are USD decimal strings.</summary>
internal sealed record PayerView(
    string Id,
    string OrganisationId,
    string Name,
    string Credits,
    string MonthlyAllowance,
    string AllowanceLeft,
    string? MonthlyCap,
    string SpentThisMonth,
    string CreditLimit,
    string Period,
    KycView Kyc)
{
    public static PayerView From(Payer p, long credits, long allowanceLeft, long spent, string period, KycRecord? kyc) => new(
        p.Id, p.OrganisationId, p.Name, Money.Format(credits), Money.Format(p.MonthlyAllowance), Money.Format(allowanceLeft),
        p.MonthlyCap is { } cap ? Money.Format(cap) : null, Money.Format(spent), Money.Format(p.CreditLimit), period, KycView.From(kyc));
}

/// <summary>Where the payer's one-time verification stands; "none" until the provider's first decision.</summary>
internal sealed record KycView(string Status, string Level, string? Country, IReadOnlyList<string> Wallets, DateTimeOffset? DecidedAt)
{
    public static KycView From(KycRecord? r) => r is null
        ? new("none", KycLevels.None, null, [], null)
        : new(r.Status, r.Level, r.Country, r.Wallets, r.DecidedAt);
}
