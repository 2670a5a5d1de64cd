using System.Globalization;
using System.Numerics;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Money;

namespace X402Serverless.Core.Credits;

/// <summary>
/// Credits a settled x402 top-up: $N of USDC paid becomes $N of credits. Keyed by the payment id, so the request
/// that settled it and the reconciliation pass that catches up after a crash credit it exactly once.
/// </summary>
public sealed class UsdcTopUps(ILedger ledger, IPaymentStore payments, NetworkRegistry networks)
{
    public const string LinkPrefix = "topup:";

    private const string PoolPrefix = LinkPrefix + "pool:";

    public static string LinkIdFor(string payerId) => LinkPrefix + payerId;

    public static string PoolLinkIdFor(string organisationId) => PoolPrefix + organisationId;

    /// <summary>The account a top-up credits: an organisation's pool or a payer's credits.</summary>
    public static string AccountFor(string linkId) => linkId.StartsWith(PoolPrefix, StringComparison.Ordinal)
        ? Accounts.Pool(linkId[PoolPrefix.Length..])
        : Accounts.Credits(linkId[LinkPrefix.Length..]);

    public async Task<PostResult> CreditAsync(PaymentRecord payment, CancellationToken cancellationToken)
    {
        if (payment.Status != PaymentStatus.Settled || !payment.LinkId.StartsWith(LinkPrefix, StringComparison.Ordinal)
            || !networks.TryGet(payment.Network, out var network))
        {
            return PostResult.Insufficient;
        }
        if (Usd.FromToken(payment.Amount, network.Decimals) is not { } credited)
        {
            return PostResult.Insufficient; // a top-up's price is whole micro-dollars, so its transfer converts exactly
        }
        return await ledger.PostAsync(
            LedgerEntry.Transfer($"usdc:{payment.Id}", "usdc-topup", Accounts.UsdcClearing, AccountFor(payment.LinkId), credited, payment.Transaction), [], cancellationToken);
    }

    /// <summary>Credits settled top-ups that have no credit yet (their request died between settlement and credit).</summary>
    public async Task<int> ReconcileAsync(CancellationToken cancellationToken)
    {
        var credited = 0;
        foreach (var payment in await payments.ListByLinkPrefixAsync(LinkPrefix, PaymentStatus.Settled, 200, cancellationToken))
        {
            if (!await ledger.EntryExistsAsync($"usdc:{payment.Id}", cancellationToken) && await CreditAsync(payment, cancellationToken) == PostResult.Posted)
            {
                credited++;
            }
        }
        return credited;
    }
}
