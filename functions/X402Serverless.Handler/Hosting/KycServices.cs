using X402Serverless.Core.Kyc;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Webhooks;
using X402Serverless.Handler.Kyc;

namespace X402Serverless.Handler.Hosting;

/// <summary>Identity verification: the processor of the provider's stored callbacks, and the attestation signer.</summary>
internal static class KycServices
{
    public static IServiceCollection AddKyc(this IServiceCollection services)
    {
        services.AddSingleton<InboxProcessor>(sp =>
            ActivatorUtilities.CreateInstance<KycEventProcessor>(sp, sp.GetRequiredKeyedService<IWebhookInbox>(WebhookSources.Kyc)));
        services.AddSingleton<KycAttestor>();
        return services;
    }
}
