using System.Text.Json;
using X402Serverless.Core.Json;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Webhooks;

namespace X402Serverless.Core.Stripe;

/// <summary>
/// Hands a Checkout Session's completed or async_payment_succeeded event to the fulfilment that recorded the session
/// when it was opened: a top-up (<see cref="CardTopUpFulfilment"/>) or a pass. The event's metadata is never read:
/// a session no fulfilment recorded (opened in Stripe's dashboard, by another integration, or before records existed)
/// changes nothing and is recorded as <c>not_recorded</c>. A fulfilled session's PaymentIntent is recorded
/// (<see cref="ICardChargeStore"/>), so its later <c>charge.refunded</c> and <c>charge.dispute.*</c> events, which name
/// the PaymentIntent and not the session, are handed to <see cref="ICardReversals"/> for that session only.
/// </summary>
public sealed class StripeEventProcessor(IWebhookInbox events, TimeProvider time, IEnumerable<ICheckoutFulfilment> fulfilments,
    ICardChargeStore? charges = null, ICardReversals? reversals = null, IExpiredCheckouts? expired = null)
    : InboxProcessor(events, time)
{
    private readonly TimeProvider _time = time;

    public override string Source => WebhookSources.Stripe;

    /// <summary>
    /// Stripe's own ceiling for one USD charge ($999,999.99). Anything larger is not a real payment and, in
    /// micro-USD, could overflow: it is refused with a reason instead of being looked at.
    /// </summary>
    public const long MaxCents = 99_999_999;

    protected override async Task<string> ApplyAsync(string payload, CancellationToken cancellationToken)
    {
        // Verified and parsed once on receipt; still, an unreadable event is recorded as such, not retried forever.
        if (!StrictJson.TryParse(payload, out var root))
        {
            return "malformed";
        }
        var type = Str(root, "type");
        if (!root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object || !data.TryGetProperty("object", out var session)
            || session.ValueKind != JsonValueKind.Object)
        {
            return "ignored";
        }
        if (type is "charge.refunded" or "charge.dispute.created" or "charge.dispute.funds_withdrawn" or "charge.dispute.closed")
        {
            return await ReverseAsync(type, session, cancellationToken);
        }
        if (type is not ("checkout.session.completed" or "checkout.session.async_payment_succeeded" or "checkout.session.expired")
            || Str(session, "id") is not { } id)
        {
            return "ignored";
        }
        // Looked up as a store key next: only the shape Stripe gives Checkout Session ids.
        if (!CheckoutSession.IsId(id))
        {
            return "not_recorded";
        }
        if (type == "checkout.session.expired")
        {
            return expired is null ? "ignored" : await expired.ForgetAsync(id, cancellationToken);
        }
        long? amount = null;
        if (session.TryGetProperty("amount_total", out var total) && total.ValueKind == JsonValueKind.Number)
        {
            if (!total.TryGetInt64(out var cents) || cents <= 0 || cents > MaxCents)
            {
                return "amount_out_of_range";
            }
            amount = cents;
        }
        var checkout = new CheckoutSession(id, type, Str(session, "payment_status"), Str(session, "currency"), amount);
        foreach (var fulfilment in fulfilments)
        {
            if (await fulfilment.FulfilAsync(checkout, cancellationToken) is { } outcome)
            {
                // Recorded after fulfilment (a crash in between leaves the event unprocessed, so it runs again), and only
                // for a session one of ours recorded and Stripe says is paid.
                if (outcome != "not_recorded" && checkout.Paid && charges is not null && IdOf(session, "payment_intent") is { } paymentIntent
                    && CardCharge.IsPaymentIntentId(paymentIntent))
                {
                    await charges.AddAsync(new CardCharge { PaymentIntentId = paymentIntent, SessionId = id, CreatedAt = _time.GetUtcNow() }, cancellationToken);
                }
                return outcome;
            }
        }
        return "not_recorded";
    }

    /// <summary>
    /// A refund (the charge's running <c>amount_refunded</c>) or a dispute (its <c>amount</c>, withdrawn by Stripe when it
    /// opens or when an inquiry becomes one, <c>funds_withdrawn</c>; an inquiry, <c>warning_*</c>, withdraws nothing and
    /// is only recorded; a dispute closed as won is only recorded too: nothing taken back is re-credited).
    /// </summary>
    private async Task<string> ReverseAsync(string type, JsonElement obj, CancellationToken cancellationToken)
    {
        if (reversals is null || IdOf(obj, "payment_intent") is not { } paymentIntent || !CardCharge.IsPaymentIntentId(paymentIntent))
        {
            return "not_recorded";
        }
        if (!string.Equals(Str(obj, "currency"), "usd", StringComparison.OrdinalIgnoreCase))
        {
            return "reversal_currency_mismatch";
        }
        var (field, reason) = type == "charge.refunded" ? ("amount_refunded", CardReversalReasons.Refunded) : ("amount", CardReversalReasons.Disputed);
        if (!obj.TryGetProperty(field, out var amountElement) || amountElement.ValueKind != JsonValueKind.Number
            || !amountElement.TryGetInt64(out var cents) || cents <= 0 || cents > MaxCents)
        {
            return "amount_out_of_range";
        }
        var status = Str(obj, "status");
        if (type == "charge.dispute.created" && status?.StartsWith("warning_", StringComparison.Ordinal) == true)
        {
            return "dispute_inquiry"; // no money moved yet; funds_withdrawn follows if it becomes a dispute
        }
        if (type == "charge.dispute.closed" && status != "lost")
        {
            // Won (or an inquiry closed): what was taken back stays taken and the operator decides.
            return "dispute_" + (status is { Length: > 0 and <= 40 } && status.All(c => char.IsAsciiLetter(c) || c == '_') ? status : "closed");
        }
        return await reversals.ReverseAsync(new CardReversal(paymentIntent, cents, reason, type), cancellationToken);
    }

    private static string? Str(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var el) && el.ValueKind == JsonValueKind.String ? el.GetString() : null;

    /// <summary>An id field, as a string or (expanded) an object with an id.</summary>
    private static string? IdOf(JsonElement obj, string name) =>
        Str(obj, name) ?? (obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var el) ? Str(el, "id") : null);
}
