using X402Serverless.Core.Networks;
using X402Serverless.Core.Protocol;

namespace X402Serverless.Handler.Hosting;

/// <summary>The chains payments are taken on, checking a payment against them, and the start-up check of their tokens.</summary>
internal static class NetworkServices
{
    public static IServiceCollection AddNetworks(this IServiceCollection services, GatewayOptions options)
    {
        services.AddSingleton(_ => new NetworkRegistry(options.Networks));
        services.AddSingleton<PaymentVerifier>();
        services.AddHostedService<TokenDomainVerifier>();
        return services;
    }
}
