namespace X402Serverless.Core.OutboundWebhooks;

/// <summary>The events an endpoint may subscribe to; a name is part of the public contract and never changes.</summary>
public static class WebhookEventTypes
{
    public const string PaymentSettled = "payment.settled";
    public const string PaymentFailed = "payment.failed";
    public const string ChargeCaptured = "charge.captured";
    public const string CreditsLow = "credits.low";
    public const string LinkUnhealthy = "link.unhealthy";
    public const string ChargeRefunded = "charge.refunded";

    /// <summary>Sent only by the "send test event" action, to any endpoint whatever it subscribes to.</summary>
    public const string Test = "webhook.test";

    public static readonly IReadOnlyList<string> All = [PaymentSettled, PaymentFailed, ChargeCaptured, CreditsLow, LinkUnhealthy, ChargeRefunded];
}
