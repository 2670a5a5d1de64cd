using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.OutboundWebhooks;
using X402Serverless.Core.Passes;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Stripe;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.OutboundWebhooks;

namespace X402Serverless.Handler.Stripe;

/// <summary>
/// Takes back what a refunded or disputed card payment credited, found through the PaymentIntent recorded when its
/// checkout was fulfilled (<see cref="ICardChargeStore"/>) and that checkout's own record, never the event's metadata.
/// A pass is revoked with the reason (its remaining calls gone); the money is taken from where it went (a top-up's
/// credits or pool; a pass's provider earnings and operator fee) up to what is still there, and any part already spent
/// is recorded as owed (<see cref="Accounts.Owed"/>), so no balance goes below zero. Stripe reports refunds as a running
/// total: each step moves the taken-back total by a conditional write first and posts its entry keyed by the new
/// total, so an event delivered any number of times, concurrently, takes each cent back once; a step whose process died
/// after the write is finished by the next event for the payment (or the retry of the same one).
/// </summary>
internal sealed partial class CardReversals(ICardChargeStore charges, ICardTopUpStore topUps, IPassStore passes, IPayerStore payers, ILedger ledger,
    WebhookEvents events, IOptions<CreditsOptions> credits, TimeProvider time, ILogger<CardReversals> logger) : ICardReversals
{
    private const int MaxAttempts = 50;

    public async Task<string> ReverseAsync(CardReversal reversal, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            if (await charges.GetAsync(reversal.PaymentIntentId, cancellationToken) is not { } charge
                || await PaidForAsync(charge.SessionId, cancellationToken) is not { } paid)
            {
                Log.NotRecorded(logger, reversal.EventType, reversal.PaymentIntentId);
                return "not_recorded";
            }
            if (charge.TakenBackCents > 0)
            {
                await ApplyAsync(paid, charge.PreviousCents, charge.TakenBackCents, charge.Reason ?? reversal.Reason, cancellationToken);
            }
            // Refunds and a dispute are reported apart (a running refunded total, a disputed amount): both are owed back.
            var (refunded, disputed) = charge.With(reversal.Reason, reversal.TargetCents);
            var target = Math.Min(refunded + disputed, paid.Cents);
            if (target <= charge.TakenBackCents)
            {
                return "reversal_duplicate";
            }
            if (!await charges.AdvanceAsync(charge.PaymentIntentId, charge.TakenBackCents, target, reversal.Reason, refunded, disputed, cancellationToken))
            {
                continue; // another delivery moved it first: look again
            }
            var (taken, owed) = await ApplyAsync(paid, charge.TakenBackCents, target, reversal.Reason, cancellationToken);
            await RaiseAsync(paid, charge, reversal, Usd.FromCents(target - charge.TakenBackCents), target, taken, owed, cancellationToken);
            return reversal.Reason == CardReversalReasons.Refunded ? "reversed_refund" : "reversed_dispute";
        }
        // Thrown, not recorded: the event stays unprocessed and is applied again later.
        throw new InvalidOperationException($"Card reversal for {reversal.PaymentIntentId} kept losing to concurrent writers.");
    }

    /// <summary>
    /// Revokes the pass (once; the first reason stays) and posts the step from <paramref name="fromCents"/> to
    /// <paramref name="toCents"/> (once, by its key). Nothing is taken when the checkout never credited anything.
    /// </summary>
    private async Task<(Usd Taken, Usd Owed)> ApplyAsync(PaidCheckout paid, long fromCents, long toCents, string reason, CancellationToken cancellationToken)
    {
        if (paid.Pass is { } pass)
        {
            await passes.RevokeAsync(pass.LinkId, pass.PassId, time.GetUtcNow(),
                reason == CardReversalReasons.Refunded ? PassRevocations.Refunded : PassRevocations.Disputed, cancellationToken);
        }
        if (!await ledger.EntryExistsAsync(CardTopUpFulfilment.PaymentRefFor(paid.SessionId), cancellationToken))
        {
            return (Usd.Zero, Usd.Zero);
        }
        var amount = Usd.FromCents(toCents - fromCents);
        var sources = new List<(string Account, Usd Amount)>();
        if (paid.Pass is { } sold)
        {
            // As the purchase posted it: the provider's share and the operator's fee.
            var fee = amount.Share(credits.Value.OperatorFeeBasisPoints);
            sources.Add((Accounts.Earnings(sold.OrganisationId), amount - fee));
            if (fee.IsPositive)
            {
                sources.Add((Accounts.OperatorFees, fee));
            }
        }
        else
        {
            sources.Add((paid.LedgerAccount!, amount));
        }
        var key = $"stripe-reversal:{paid.SessionId}:{toCents}";
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var legs = new List<Leg> { new(Accounts.CardClearing, amount) };
            var taken = Usd.Zero;
            var owed = Usd.Zero;
            foreach (var (account, due) in sources.Where(s => s.Amount.IsPositive))
            {
                var balance = await ledger.BalanceAsync(account, cancellationToken);
                var take = balance.IsPositive ? (balance < due ? balance : due) : Usd.Zero;
                if (take.IsPositive)
                {
                    legs.Add(new Leg(account, -take));
                }
                if (due - take is { IsPositive: true } shortfall)
                {
                    legs.Add(new Leg(Accounts.Owed(account), -shortfall));
                }
                taken += take;
                owed += due - take;
            }
            switch (await ledger.PostAsync(new LedgerEntry(key, "card-" + reason, legs, paid.SessionId), [], cancellationToken))
            {
                case PostResult.Posted:
                    if (owed.IsPositive)
                    {
                        Log.Owed(logger, paid.SessionId, owed.ToString(), reason);
                    }
                    return (taken, owed);
                case PostResult.Duplicate:
                    // Posted by a concurrent delivery: what that entry took and recorded as owed.
                    var posted = await ledger.EntryLegsAsync(key, cancellationToken) ?? [];
                    return (-Sum(posted.Where(l => l.Account != Accounts.CardClearing && !Accounts.IsClearing(l.Account))),
                        -Sum(posted.Where(l => l.Account.StartsWith(Accounts.Owed(""), StringComparison.Ordinal))));
                default:
                    continue; // spent meanwhile: measure again
            }
        }
        throw new InvalidOperationException($"Card reversal of {paid.SessionId} kept losing to concurrent spending.");
    }

    private static Usd Sum(IEnumerable<Leg> legs) => Usd.FromMicros(legs.Sum(l => l.Amount.Micros));

    private async Task RaiseAsync(PaidCheckout paid, CardCharge charge, CardReversal reversal, Usd amount, long totalCents, Usd taken, Usd owed,
        CancellationToken cancellationToken)
    {
        if (await OrganisationOfAsync(paid, cancellationToken) is not { } organisationId)
        {
            return;
        }
        // One event per step taken back: the payment and its new total name it, so a repeated event raises nothing new.
        await events.RaiseAsync(organisationId, WebhookEventTypes.ChargeRefunded, $"{charge.PaymentIntentId}:{totalCents}", () =>
        {
            var data = new JsonObject
            {
                ["reason"] = reversal.Reason,
                ["paidWith"] = "card",
                ["purchase"] = paid.Pass is null ? "topup" : "pass",
                ["sessionId"] = paid.SessionId,
                ["paymentIntent"] = charge.PaymentIntentId,
                ["amountUsd"] = amount.ToString(),
                ["totalUsd"] = Usd.FromCents(totalCents).ToString(),
                ["takenBackUsd"] = taken.ToString(),
                ["owedUsd"] = owed.ToString(),
            };
            if (paid.Pass is { } pass)
            {
                data["linkId"] = pass.LinkId;
                data["passId"] = pass.PassId;
                data["payerId"] = pass.PayerId;
            }
            else if (paid.TopUp is { Kind: CardTopUp.Payer } topUp)
            {
                data["payerId"] = topUp.AccountId;
            }
            return data;
        }, cancellationToken);
    }

    private async Task<string?> OrganisationOfAsync(PaidCheckout paid, CancellationToken cancellationToken) => paid switch
    {
        { Pass: { } pass } => pass.OrganisationId,
        { TopUp: { Kind: CardTopUp.Organisation } topUp } => topUp.AccountId,
        { TopUp: { Kind: CardTopUp.Payer } topUp } => (await payers.GetAsync(topUp.AccountId, cancellationToken))?.OrganisationId,
        _ => null,
    };

    /// <summary>What the gateway recorded for the session when it opened it: a top-up or a pass, and its amount.</summary>
    private async Task<PaidCheckout?> PaidForAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (await topUps.GetAsync(sessionId, cancellationToken) is { LedgerAccount: not null, Amount.WholeCents: { } cents } topUp)
        {
            return new PaidCheckout(sessionId, cents, topUp, null);
        }
        if (await passes.GetCheckoutAsync(sessionId, cancellationToken) is { Offer.Price.WholeCents: { } price } checkout)
        {
            return new PaidCheckout(sessionId, price, null,
                new SoldPass(checkout.LinkId, PassIds.For(checkout.LinkId, checkout.PaymentRef), checkout.OrganisationId, checkout.PayerId));
        }
        return null;
    }

    private sealed record PaidCheckout(string SessionId, long Cents, CardTopUp? TopUp, SoldPass? Pass)
    {
        public string? LedgerAccount => TopUp?.LedgerAccount;
    }

    private sealed record SoldPass(string LinkId, string PassId, string OrganisationId, string PayerId);

    private static partial class Log
    {
        [LoggerMessage(146, LogLevel.Warning,
            "Stripe {EventType} for PaymentIntent {PaymentIntent}: the gateway fulfilled no checkout paid by it, so nothing is taken back.")]
        public static partial void NotRecorded(ILogger logger, string eventType, string paymentIntent);

        [LoggerMessage(147, LogLevel.Warning,
            "Card payment of Checkout Session {SessionId} {Reason}: {Owed} USD of it was already spent and is recorded as owed.")]
        public static partial void Owed(ILogger logger, string sessionId, string owed, string reason);
    }
}
