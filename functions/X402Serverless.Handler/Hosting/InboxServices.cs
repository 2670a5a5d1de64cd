using X402Serverless.Handler.Inbox;

namespace X402Serverless.Handler.Hosting;

/// <summary>Paid inbox links: the endpoint the paid path hands them to, SMTP delivery and its in-process worker.</summary>
internal static class InboxServices
{
    public static IServiceCollection AddPaidInbox(this IServiceCollection services)
    {
        services.AddSingleton<InboxEndpoint>();
        services.AddSingleton<InboxDeliverySignal>();
        services.AddSingleton<SmtpMailer>();
        services.AddSingleton<InboxWebhook>();
        services.AddSingleton<InboxRefunds>();
        services.AddSingleton<InboxDelivery>();
        services.AddSingleton<InboxRefundSweep>();
        services.AddSingleton<HeldMessages>();
        services.AddSingleton<InboxOwner>();
        services.AddHostedService<InboxDeliveryWorker>();
        return services;
    }
}
