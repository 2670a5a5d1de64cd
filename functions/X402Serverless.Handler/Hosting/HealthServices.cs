using X402Serverless.Handler.Health;

namespace X402Serverless.Handler.Hosting;

/// <summary>Health probes of listed links: the prober (also run by the Maintenance function) and its standalone timer.</summary>
internal static class HealthServices
{
    public static IServiceCollection AddHealthProbes(this IServiceCollection services)
    {
        services.AddSingleton<LinkHealthProber>();
        services.AddHostedService<LinkHealthTimer>();
        return services;
    }
}
