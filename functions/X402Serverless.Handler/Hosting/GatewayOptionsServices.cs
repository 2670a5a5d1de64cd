using Microsoft.Extensions.Options;

namespace X402Serverless.Handler.Hosting;

/// <summary>
/// Binds the "X402" section, and each of its sub-sections on its own, so a class that reads one section depends on
/// that section's options only (IOptions&lt;SettlementOptions&gt;) rather than on the whole of <see cref="GatewayOptions"/>.
/// </summary>
internal static class GatewayOptionsServices
{
    /// <summary>Registers the options and returns them as bound now, for the choices made while registering (store kind, sealing key).</summary>
    public static GatewayOptions AddGatewayOptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>();
        services.AddSection<SettlementOptions>(nameof(GatewayOptions.Settlement));
        services.AddSection<CreditsOptions>(nameof(GatewayOptions.Credits));
        services.AddSection<StripeOptions>(nameof(GatewayOptions.Stripe));
        services.AddSection<KycOptions>(nameof(GatewayOptions.Kyc));
        services.AddSection<WebhookOptions>(nameof(GatewayOptions.Webhooks));
        services.AddSection<InboxOptions>(nameof(GatewayOptions.Inbox));
        services.AddSection<OutboundWebhookOptions>(nameof(GatewayOptions.OutboundWebhooks));
        services.AddSection<ServiceBusOptions>(nameof(GatewayOptions.ServiceBus));
        services.AddSection<StorageOptions>(nameof(GatewayOptions.Storage));
        services.AddSection<HealthOptions>(nameof(GatewayOptions.Health));
        return configuration.GetSection(GatewayOptions.Section).Get<GatewayOptions>() ?? new GatewayOptions();
    }

    // The same keys as the GatewayOptions property of that name (X402:Settlement:..., env X402__Settlement__...).
    private static void AddSection<T>(this IServiceCollection services, string property) where T : class =>
        services.AddOptions<T>().BindConfiguration($"{GatewayOptions.Section}:{property}");
}
