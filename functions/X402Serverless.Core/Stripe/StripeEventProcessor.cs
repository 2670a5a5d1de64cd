using System.Text.Json;
using X402Serverless.Core.Json;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Webhooks;

namespace X402Serverless.Core.Stripe;

/// <summary>
/// Hands a Checkout Session's completed or async_payment_succeeded event to the fulfilment that recorded the session
/// when it was opened: a top-up (<see cref="CardTopUpFulfilment"/>) or a pass. The event's metadata is never read:
/// a session no fulfilment recorded (opened in Stripe's dashboard, by another integration, or before records existed)
/// changes nothing and is recorded as <c>not_recorded</c>.
/// </summary>
public sealed class StripeEventProcessor(IWebhookInbox events, TimeProvider time, IEnumerable<ICheckoutFulfilment> fulfilments)
    : InboxProcessor(events, time)
{
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
        if (type is not ("checkout.session.completed" or "checkout.session.async_payment_succeeded")
            || !root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object || !data.TryGetProperty("object", out var session)
            || Str(session, "id") is not { } id)
        {
            return "ignored";
        }
        // Looked up as a store key next: only the shape Stripe gives Checkout Session ids.
        if (!CheckoutSession.IsId(id))
        {
            return "not_recorded";
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
                return outcome;
            }
        }
        return "not_recorded";
    }

    private static string? Str(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var el) && el.ValueKind == JsonValueKind.String ? el.GetString() : null;
}
