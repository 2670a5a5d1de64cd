using X402Serverless.Core.Upstream;
using X402Serverless.Handler.Forwarding;

namespace X402Serverless.Handler.Hosting;

/// <summary>Calling a link's upstream: which addresses are allowed, the guarded client and the response isolation.</summary>
internal static class ForwardingServices
{
    public static IServiceCollection AddForwarding(this IServiceCollection services, GatewayOptions options)
    {
        services.AddSingleton(_ => new UpstreamAddressPolicy(options.AllowedUpstreamRanges));
        services.AddSingleton(sp => UpstreamClientFactory.Create(sp.GetRequiredService<UpstreamAddressPolicy>()));
        services.AddSingleton<ResponseIsolation>();
        services.AddSingleton<UpstreamForwarder>();
        return services;
    }
}
