using X402Serverless.Core.OutboundWebhooks;
using X402Serverless.Handler.Requests;

namespace X402Serverless.Handler.ProviderConsole;

/// <summary>The console's webhook endpoint form: one checkbox per event, turned into the same request the API takes.</summary>
internal sealed class WebhookEndpointForm
{
    public string? Url { get; set; }

    public string? Description { get; set; }

    /// <summary>False by default: an unchecked box sends nothing, so a posted form without it means "disabled".</summary>
    public bool Enabled { get; set; }

    public bool PaymentSettled { get; set; }

    public bool PaymentFailed { get; set; }

    public bool ChargeCaptured { get; set; }

    public bool CreditsLow { get; set; }

    public bool LinkUnhealthy { get; set; }

    public static WebhookEndpointForm From(WebhookEndpoint e) => new()
    {
        Url = e.Url,
        Description = e.Description,
        Enabled = e.Enabled,
        PaymentSettled = e.Events.Contains(WebhookEventTypes.PaymentSettled),
        PaymentFailed = e.Events.Contains(WebhookEventTypes.PaymentFailed),
        ChargeCaptured = e.Events.Contains(WebhookEventTypes.ChargeCaptured),
        CreditsLow = e.Events.Contains(WebhookEventTypes.CreditsLow),
        LinkUnhealthy = e.Events.Contains(WebhookEventTypes.LinkUnhealthy),
    };

    public WebhookEndpointRequest ToRequest() => new()
    {
        Url = Url ?? "",
        Description = Description ?? "",
        Enabled = Enabled,
        Events = new[]
        {
            (PaymentSettled, WebhookEventTypes.PaymentSettled), (PaymentFailed, WebhookEventTypes.PaymentFailed),
            (ChargeCaptured, WebhookEventTypes.ChargeCaptured), (CreditsLow, WebhookEventTypes.CreditsLow),
            (LinkUnhealthy, WebhookEventTypes.LinkUnhealthy),
        }.Where(e => e.Item1).Select(e => e.Item2).ToList(),
    };
}
