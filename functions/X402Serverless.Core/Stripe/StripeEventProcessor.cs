using System.Text.Json;
using X402Serverless.Core.Json;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Webhooks;
using X402Serverless.Core.Money;

namespace X402Serverless.Core.Stripe;

/// <summary>
/// Turns a paid Checkout Session into credits (for a payer) or pool funds (for an organisation). The ledger entry is
/// keyed by the session id, so a redelivered or duplicated event never credits twice. A session the gateway opened
/// to sell a pass is handed to <paramref name="checkouts"/> instead, which knows it by its id alone.
/// </summary>
public sealed class StripeEventProcessor(IWebhookInbox events, ILedger ledger, IPayerStore payers, TimeProvider time, ICheckoutFulfilment? checkouts = null)
    : InboxProcessor(events, time)
{
    public override string Source => WebhookSources.Stripe;

    // Stripe amounts are in cents; the ledger counts micro-USD.

    /// <summary>
    /// Stripe's own ceiling for one USD charge ($999,999.99). Anything larger is not a real payment and, in
    /// micro-USD, could overflow: it is refused with a reason instead of being posted.
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
            || !root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object || !data.TryGetProperty("object", out var session))
        {
            return "ignored";
        }
        if (checkouts is not null && Str(session, "id") is { Length: > 0 } id)
        {
            long? amount = session.TryGetProperty("amount_total", out var a) && a.ValueKind == JsonValueKind.Number && a.TryGetInt64(out var sessionCents) ? sessionCents : null;
            var fulfilled = await checkouts.FulfilAsync(new CheckoutSession(id, type, Str(session, "payment_status"), Str(session, "currency"), amount), cancellationToken);
            if (fulfilled is not null)
            {
                return fulfilled;
            }
        }
        if (type != "checkout.session.completed")
        {
            // A delayed card-top-up payment is not taken here (top-ups credit on checkout.session.completed, paid).
            return "ignored";
        }
        if (Str(session, "payment_status") != "paid")
        {
            return "not_paid";
        }
        if (!string.Equals(Str(session, "currency"), "usd", StringComparison.OrdinalIgnoreCase)
            || !session.TryGetProperty("amount_total", out var total) || total.ValueKind != JsonValueKind.Number)
        {
            return "unsupported_amount";
        }
        if (!total.TryGetInt64(out var cents) || cents <= 0 || cents > MaxCents)
        {
            return "amount_out_of_range";
        }
        var sessionId = Str(session, "id") ?? "";
        var metadata = session.TryGetProperty("metadata", out var m) && m.ValueKind == JsonValueKind.Object ? m : default;
        string? account = null;
        if (metadata.ValueKind == JsonValueKind.Object && Str(metadata, "payer_id") is { } payerId && await payers.GetAsync(payerId, cancellationToken) is not null)
        {
            account = Accounts.Credits(payerId);
        }
        else if (metadata.ValueKind == JsonValueKind.Object && Str(metadata, "organisation_id") is { } organisationId)
        {
            account = Accounts.Pool(organisationId);
        }
        if (account is null || sessionId.Length == 0)
        {
            return "no_account";
        }
        var result = await ledger.PostAsync(
            LedgerEntry.Transfer($"stripe:{sessionId}", "card-topup", Accounts.CardClearing, account, Usd.FromCents(cents), sessionId), [], cancellationToken);
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

    private static string? Str(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var el) && el.ValueKind == JsonValueKind.String ? el.GetString() : null;
}
