namespace X402Serverless.Handler.Hosting;

/// <summary>A background service that is also injected elsewhere (woken, asked for state): one instance for both.</summary>
internal static class HostedSingletons
{
    public static IServiceCollection AddHostedSingleton<T>(this IServiceCollection services) where T : class, IHostedService
    {
        services.AddSingleton<T>();
        services.AddHostedService(sp => sp.GetRequiredService<T>());
        return services;
    }
}
