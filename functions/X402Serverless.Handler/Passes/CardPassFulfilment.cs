using Microsoft.Extensions.Options;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Passes;
using X402Serverless.Core.Payers;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Stripe;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Passes;

/// <summary>
/// Issues the pass a paid card checkout bought, from Stripe's signed event. What it is for (link, offer, payer) comes
/// from the checkout recorded when the session was opened, never from the event's metadata; the event only says the
/// session is paid, in USD, for the recorded price. Every step is keyed by the session (the buyer's account and key,
/// the ledger entry, the pass id), so an event delivered twice or processed concurrently issues one pass.
/// </summary>
internal sealed class CardPassFulfilment(IPassStore passes, ILinkStore links, IPayerStore payers, ILedger ledger, PassIssuer issuer,
    IOptions<CreditsOptions> credits, TimeProvider time) : ICheckoutFulfilment
{
    public async Task<string?> FulfilAsync(CheckoutSession session, CancellationToken cancellationToken)
    {
        if (!CardCheckouts.IsSessionId(session.Id) || await passes.GetCheckoutAsync(session.Id, cancellationToken) is not { } checkout)
        {
            return null;
        }
        if (!session.Paid)
        {
            // An asynchronous payment method: its checkout.session.async_payment_succeeded comes later, paid.
            return "pass_not_paid";
        }
        // Paid: kept from now on, whatever follows (a refund or dispute finds it); marked before anything is posted or issued.
        if (!await passes.MarkCheckoutPaidAsync(session.Id, cancellationToken))
        {
            return null; // forgotten by the sweep meanwhile: nothing issued, logged for a refund as any unrecorded session
        }
        if (!string.Equals(session.Currency, "usd", StringComparison.OrdinalIgnoreCase) || session.AmountTotal != checkout.Offer.Price.WholeCents)
        {
            return "pass_amount_mismatch";
        }
        if (await links.FindAsync(checkout.LinkId, cancellationToken) is not { } link || link.OrganisationId != checkout.OrganisationId)
        {
            // Paid for a link deleted since: the money stays with Stripe for a refund; nothing is issued or posted.
            return "pass_link_gone";
        }
        if (checkout.NewKeyHash is { } keyHash)
        {
            await EnsureBuyerAsync(checkout, keyHash, cancellationToken);
        }
        else if (await payers.GetAsync(checkout.PayerId, cancellationToken) is null)
        {
            return "pass_payer_gone";
        }
        // As a card top-up posts (from card clearing, keyed by the session), but to the provider, less the operator's fee.
        var price = checkout.Offer.Price;
        var fee = price.Share(credits.Value.OperatorFeeBasisPoints);
        var legs = new List<Leg> { new(Accounts.CardClearing, -price), new(Accounts.Earnings(link.OrganisationId), price - fee) };
        if (fee.IsPositive)
        {
            legs.Add(new Leg(Accounts.OperatorFees, fee));
        }
        await ledger.PostAsync(new LedgerEntry(checkout.PaymentRef, "card-pass", legs, link.Id), [], cancellationToken);
        var (_, issued) = await issuer.IssueAsync(link, checkout.Offer, PassHolders.Payer(checkout.PayerId), checkout.PaymentRef, PassCheckout.PaidWith,
            cancellationToken);
        return issued ? "pass_issued" : "pass_already_issued";
    }

    /// <summary>
    /// The account made for a buyer who had none, in the link's organisation, with the key the buyer's browser holds.
    /// Its id and key id derive from the session: a second or concurrent completion finds them and adds nothing.
    /// </summary>
    private async Task EnsureBuyerAsync(PassCheckout checkout, string keyHash, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var key = new PayerKey(checkout.NewKeyId!, checkout.PayerId, "x402pk_", now);
        if (await payers.GetAsync(checkout.PayerId, cancellationToken) is null)
        {
            var payer = new Payer { Id = checkout.PayerId, OrganisationId = checkout.OrganisationId, Name = "Card buyer", CreatedAt = now };
            try
            {
                await payers.CreateAsync(payer, key, keyHash, cancellationToken);
                return;
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // Created concurrently (the conflict is the store's own error); anything else is thrown again below.
                if (await payers.GetAsync(checkout.PayerId, cancellationToken) is null)
                {
                    throw;
                }
            }
        }
        // The account exists; its key too, unless the write that created the account stopped before it (Table Storage).
        if ((await payers.ListKeysAsync(checkout.PayerId, cancellationToken)).Any(k => k.Id == key.Id))
        {
            return;
        }
        try
        {
            await payers.AddKeyAsync(key, keyHash, cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            if (!(await payers.ListKeysAsync(checkout.PayerId, cancellationToken)).Any(k => k.Id == key.Id))
            {
                throw;
            }
        }
    }
}
