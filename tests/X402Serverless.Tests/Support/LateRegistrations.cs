using Microsoft.Extensions.DependencyInjection;

namespace X402Serverless.Tests.Support;

/// <summary>
/// Builds a test gateway's services once <paramref name="change"/> has altered them: the gateway's own registrations
/// are all in by then, so what is added here replaces them (the last registration wins), e.g. a store wrapped to fail
/// or to let something happen at a chosen moment (<see cref="Decorate{T}"/>).
/// </summary>
internal sealed class LateRegistrations(Action<IServiceCollection> change) : IServiceProviderFactory<IServiceCollection>
{
    public IServiceCollection CreateBuilder(IServiceCollection services) => services;

    public IServiceProvider CreateServiceProvider(IServiceCollection containerBuilder)
    {
        change(containerBuilder);
        return containerBuilder.BuildServiceProvider();
    }

    /// <summary>Replaces the gateway's <typeparamref name="T"/> with <paramref name="wrap"/> around the instance it would have built.</summary>
    public static void Decorate<T>(IServiceCollection services, Func<IServiceProvider, T, T> wrap) where T : class
    {
        var real = services.Last(d => d.ServiceType == typeof(T) && !d.IsKeyedService);
        services.AddSingleton(sp => wrap(sp,
            (T)(real.ImplementationInstance ?? real.ImplementationFactory?.Invoke(sp) ?? ActivatorUtilities.CreateInstance(sp, real.ImplementationType!))));
    }
}
