using X402Serverless.Handler.OutboundWebhooks;

namespace X402Serverless.Handler.Hosting;

/// <summary>Organisations' outbound webhooks: the endpoints' editor and cache, raising events, and the delivery worker.</summary>
internal static class OutboundWebhookServices
{
    public static IServiceCollection AddOutboundWebhooks(this IServiceCollection services)
    {
        services.AddSingleton<WebhookEndpointCache>();
        services.AddSingleton<WebhookUrlCheck>();
        services.AddSingleton<WebhookEndpointEditor>();
        services.AddSingleton<WebhookDeliverySignal>();
        services.AddSingleton<WebhookEvents>();
        services.AddSingleton<Core.Ports.ISettlementObserver, WebhookSettlementObserver>();
        services.AddSingleton<CreditsLowWatch>();
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<WebhookDispatch>();
        services.AddSingleton<WebhookRetention>();
        services.AddHostedSingleton<WebhookDeliveryWorker>();
        return services;
    }
}
