using X402Serverless.Handler.ProviderConsole;
using X402Serverless.Handler.Signup;

namespace X402Serverless.Handler.Hosting;

/// <summary>Service registration: the gateway is its features, each registered by its own extension.</summary>
internal static class GatewayServices
{
    public static void AddGateway(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        // Read once here for what decides the registrations themselves (store kind, keys, queues); classes take IOptions.
        var options = services.AddGatewayOptions(builder.Configuration);
        var dataDirectory = Path.GetFullPath(options.DataDirectory);
        Directory.CreateDirectory(dataDirectory);

        services.TryAddTimeProvider();
        services.AddGatewayProblems();
        services.AddSecrets(options, dataDirectory);
        services.AddStores(options, dataDirectory);
        // Background services start in this order and stop in reverse, so the settlement worker stops first.
        services.AddCredits(options);
        services.AddPaidLinks();
        services.AddPaidInbox();
        services.AddOutboundWebhooks();
        services.AddStripe();
        services.AddKyc();
        services.AddWebhookInbox();
        services.AddNetworks(options);
        services.AddSettlement(options);
        services.AddForwarding(options);
        services.AddHealthProbes();
        services.AddFacilitatorService();
        services.AddManagementApi();
        services.AddMcpEndpoint();
        services.AddConsole(options);
        services.AddSignup();
        services.AddSingleton<GatewayStartup>();
    }

    private static void TryAddTimeProvider(this IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(TimeProvider)))
        {
            services.AddSingleton(TimeProvider.System);
        }
    }
}
