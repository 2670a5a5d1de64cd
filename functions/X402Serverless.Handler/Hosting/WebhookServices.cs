using X402Serverless.Handler.Webhooks;

namespace X402Serverless.Handler.Hosting;

/// <summary>The in-process consumer of every webhook inbox (Stripe, KYC) and the signal that wakes it.</summary>
internal static class WebhookServices
{
    public static IServiceCollection AddWebhookInbox(this IServiceCollection services)
    {
        services.AddSingleton<InboxSignal>();
        services.AddHostedService<InboxWorker>();
        return services;
    }
}
