using X402Serverless.Core.Ledger;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Money;

namespace X402Serverless.Handler.ProviderConsole;

/// <summary>Usage and revenue per link from the payment store's totals, and payment amounts in dollars.</summary>
internal sealed class ConsoleFigures(NetworkRegistry networks)
{
    // A call is paid once its upstream answered and the payment is being or has been settled.
    private static readonly PaymentStatus[] Paid = [PaymentStatus.Pending, PaymentStatus.Settling, PaymentStatus.Settled];

    public IReadOnlyDictionary<string, LinkFigures> ByLink(IReadOnlyList<PaymentTotals> totals) =>
        totals.GroupBy(t => t.LinkId, StringComparer.Ordinal).ToDictionary(
            g => g.Key,
            g => new LinkFigures(
                g.Where(t => Paid.Contains(t.Status)).Sum(t => t.Count),
                DollarText.Sum(g.Where(t => t.Status == PaymentStatus.Settled).Select(t => (t.Amount, Decimals(t.Network))))),
            StringComparer.Ordinal);

    /// <summary>Credit-paid calls and what they earned (after the operator's fee), per link, from the earnings postings.</summary>
    public static IReadOnlyDictionary<string, CreditFigures> CreditsByLink(IReadOnlyList<Posting> earnings) =>
        earnings.Where(p => p.Kind == "capture" && p.Memo is not null).GroupBy(p => p.Memo!, StringComparer.Ordinal).ToDictionary(
            g => g.Key, g => new CreditFigures(g.Count(), Usd.FromMicros(g.Sum(p => p.Amount.Micros)).ToString()), StringComparer.Ordinal);

    public string Dollars(PaymentRecord payment) => DollarText.Of(payment.Amount, Decimals(payment.Network));

    // A network removed from configuration keeps its history readable with USDC's six decimals.
    private int Decimals(string network) => networks.TryGet(network, out var n) ? n.Decimals : 6;
}

/// <summary>One link's credit-paid calls and the provider's earnings from them (USD decimal string).</summary>
internal sealed record CreditFigures(int Calls, string EarnedUsd)
{
    public static readonly CreditFigures None = new(0, "0.00");
}

/// <summary>One link's paid calls and settled revenue (USD decimal string).</summary>
internal sealed record LinkFigures(int PaidCalls, string SettledUsd)
{
    public static readonly LinkFigures None = new(0, "0.00");
}
