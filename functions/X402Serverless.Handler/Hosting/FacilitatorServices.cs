using X402Serverless.Handler.Facilitator;

namespace X402Serverless.Handler.Hosting;

/// <summary>The built-in facilitator served to others at /facilitator: who may use it, what it accepts and its gas accounting.</summary>
internal static class FacilitatorServices
{
    public static IServiceCollection AddFacilitatorService(this IServiceCollection services)
    {
        services.AddSingleton<FacilitatorGate>();
        services.AddSingleton<FacilitatorPolicy>();
        services.AddSingleton<FacilitatorGasMeter>();
        services.AddSingleton<FacilitatorService>();
        return services;
    }
}
