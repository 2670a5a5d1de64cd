using System.Text.Json.Nodes;
using X402Serverless.Core.Charges;
using X402Serverless.Core.Links;
using X402Serverless.Core.OutboundWebhooks;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Settlement;

namespace X402Serverless.Handler.OutboundWebhooks;

/// <summary>The "data.object" of each event (docs/webhooks.md): amounts as strings of integer units, never floats.</summary>
internal static class WebhookEventData
{
    /// <summary>payment.settled or payment.failed for a settlement's final outcome; null while it is still undecided.</summary>
    public static string? SettlementType(SettlementResult result) => result.Kind switch
    {
        SettlementOutcomeKind.Settled => WebhookEventTypes.PaymentSettled,
        SettlementOutcomeKind.Failed or SettlementOutcomeKind.Expired => WebhookEventTypes.PaymentFailed,
        _ => null,
    };

    public static JsonObject Settlement(PaymentRecord payment, SettlementResult result) => result.Kind == SettlementOutcomeKind.Settled
        ? Payment(payment, "settled", result.Transaction, null)
        : Payment(payment, result.Kind == SettlementOutcomeKind.Expired ? "expired" : "failed", result.Transaction, result.Reason);

    /// <summary>What a charge.captured event is about: the payment, or the credit hold, it captured.</summary>
    public static string ChargeSubject(Core.Charges.ICharge charge, ChargeReceipt receipt) => (charge, receipt) switch
    {
        (_, X402Receipt x) => x.Payment.Id,
        (Core.Charges.BalanceCharge b, _) => "hold:" + b.Hold.Id,
        // Nothing else names this capture: a random subject, so it is still one event.
        _ => "capture:" + Guid.NewGuid().ToString("N"),
    };

    public static JsonObject Charge(PaidLink link, ChargeReceipt receipt) => receipt switch
    {
        BalanceReceipt b => new JsonObject
        {
            ["linkId"] = link.Id,
            ["paidWith"] = b.FromAllowance ? "allowance" : PaymentTypes.Credits,
            ["amountUsd"] = b.Amount.ToString(),
            ["amountMicros"] = b.Amount.Micros.ToString(System.Globalization.CultureInfo.InvariantCulture),
        },
        X402Receipt x => new JsonObject
        {
            ["linkId"] = link.Id,
            ["paidWith"] = "x402",
            ["paymentId"] = x.Payment.Id,
            ["network"] = x.Payment.Network,
            ["payer"] = x.Payment.Payer,
            ["amountUnits"] = x.Payment.Amount.ToString(),
            ["transaction"] = x.Transaction,
            ["deferred"] = x.Deferred,
        },
        _ => new JsonObject { ["linkId"] = link.Id },
    };

    private static JsonObject Payment(PaymentRecord p, string status, string? transaction, string? reason) => new()
    {
        ["paymentId"] = p.Id,
        ["linkId"] = p.LinkId,
        ["status"] = status,
        ["network"] = p.Network,
        ["asset"] = p.Asset,
        ["payer"] = p.Payer,
        ["payTo"] = p.PayTo,
        ["amountUnits"] = p.Amount.ToString(),
        ["mode"] = p.Mode,
        ["transaction"] = transaction ?? p.Transaction,
        ["reason"] = reason,
    };
}
