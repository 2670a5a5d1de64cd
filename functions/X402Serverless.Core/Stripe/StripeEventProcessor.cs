using System.Text.Json;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Webhooks;

namespace X402Serverless.Core.Stripe;

/// <summary>
/// Turns a paid Checkout Session into credits (for a payer) or pool funds (for an organisation). The ledger entry is
/// keyed by the session id, so a redelivered or duplicated event never credits twice.
/// </summary>
public sealed class StripeEventProcessor(IWebhookInbox events, ILedger ledger, IPayerStore payers, TimeProvider time) : InboxProcessor(events, time)
{
    public override string Source => WebhookSources.Stripe;

    // Stripe amounts are in cents; the ledger counts micro-USD.
    private const long MicrosPerCent = 10_000;

    protected override async Task<string> ApplyAsync(string payload, CancellationToken cancellationToken)
    {
        using var doc = JsonDocument.Parse(payload);
        var root = doc.RootElement;
        if (Str(root, "type") != "checkout.session.completed"
            || !root.TryGetProperty("data", out var data) || !data.TryGetProperty("object", out var session))
        {
            return "ignored";
        }
        if (Str(session, "payment_status") != "paid")
        {
            return "not_paid";
        }
        if (!string.Equals(Str(session, "currency"), "usd", StringComparison.OrdinalIgnoreCase)
            || !session.TryGetProperty("amount_total", out var total) || !total.TryGetInt64(out var cents) || cents <= 0)
        {
            return "unsupported_amount";
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
            LedgerEntry.Transfer($"stripe:{sessionId}", "card-topup", Accounts.CardClearing, account, cents * MicrosPerCent, sessionId), [], cancellationToken);
        return result == PostResult.Duplicate ? "duplicate" : "credited";
    }

    private static string? Str(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var el) && el.ValueKind == JsonValueKind.String ? el.GetString() : null;
}
