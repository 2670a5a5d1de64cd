namespace X402Serverless.Handler.Hosting;

/// <summary>Settings under "X402:ServiceBus". Without a namespace, jobs run in-process.</summary>
public sealed class ServiceBusOptions
{
    /// <summary>e.g. https://sb-xyz.servicebus.windows.net (managed identity; local auth is off).</summary>
    public string? Namespace { get; set; }

    public string SettlementQueue { get; set; } = "settlement-jobs";

    public string StripeEventsQueue { get; set; } = "stripe-events";

    public string KycEventsQueue { get; set; } = "kyc-events";

    public string InboxDeliveryQueue { get; set; } = "inbox-deliveries";
}
