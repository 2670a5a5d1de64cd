using X402Serverless.Core.Ledger;
using X402Serverless.Core.Ports;

namespace X402Serverless.Core.Stripe;

/// <summary>
/// Credits a paid card top-up from Stripe's signed event. Who is credited and how much comes from the top-up recorded
/// when the session was opened (<see cref="ICardTopUpStore"/>), never from the event's metadata; the event only says
/// the session is paid, in the recorded currency, for the recorded amount. The ledger entry is keyed by the session,
/// so every delivery of its events (completed, async_payment_succeeded, redeliveries, concurrent ones) credits once.
/// </summary>
public sealed class CardTopUpFulfilment(ICardTopUpStore topUps, ILedger ledger, IPayerStore payers) : ICheckoutFulfilment
{
    public async Task<string?> FulfilAsync(CheckoutSession session, CancellationToken cancellationToken)
    {
        if (await topUps.GetAsync(session.Id, cancellationToken) is not { } topUp)
        {
            return null;
        }
        if (!session.Paid)
        {
            // A delayed payment method: checkout.session.async_payment_succeeded comes later, paid.
            return "topup_not_paid";
        }
        // Paid: kept from now on, whatever follows (a refund or dispute finds it); marked before anything is credited.
        if (!await topUps.MarkPaidAsync(session.Id, cancellationToken))
        {
            return null; // forgotten by the sweep meanwhile: not credited, logged for a refund as any unrecorded session
        }
        if (!string.Equals(session.Currency, topUp.Currency, StringComparison.OrdinalIgnoreCase) || session.AmountTotal is not { } cents || cents <= 0 || cents != topUp.Amount.WholeCents)
        {
            return "topup_amount_mismatch";
        }
        if (topUp.LedgerAccount is not { } account)
        {
            return "topup_unknown_kind";
        }
        if (topUp.Kind == CardTopUp.Payer && await payers.GetAsync(topUp.AccountId, cancellationToken) is null)
        {
            // Paid for a payer deleted since: the money stays with Stripe for a refund; nothing is posted.
            return "topup_payer_gone";
        }
        var result = await ledger.PostAsync(
            LedgerEntry.Transfer(PaymentRefFor(session.Id), "card-topup", Accounts.CardClearing, account, topUp.Amount, session.Id), [], cancellationToken);
        // What was recorded is what happened: only a posted entry is "credited".
        return result switch
        {
            PostResult.Posted => "credited",
            PostResult.Duplicate => "duplicate",
            PostResult.Insufficient => "not_credited_insufficient",
            PostResult.CapExceeded => "not_credited_cap_exceeded",
            _ => "not_credited",
        };
    }

    /// <summary>The ledger entry key of a session's top-up (the same key as before records existed, so no session credits twice across the change).</summary>
    public static string PaymentRefFor(string sessionId) => "stripe:" + sessionId;
}
