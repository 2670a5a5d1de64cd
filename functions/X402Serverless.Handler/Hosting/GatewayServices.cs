using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Credits;
using X402Serverless.Core.Facilitation;
using X402Serverless.Core.Kyc;
using X402Serverless.Core.Stripe;
using X402Serverless.Core.Webhooks;
using X402Serverless.Core.Links;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Protocol;
using X402Serverless.Core.Settlement;
using X402Serverless.Core.Upstream;
using X402Serverless.Handler.Forwarding;
using X402Serverless.Handler.Management;
using X402Serverless.Handler.Paywall;
using X402Serverless.Handler.ProviderConsole;
using X402Serverless.Handler.Credits;
using X402Serverless.Handler.Payers;
using X402Serverless.Handler.Secrets;
using X402Serverless.Handler.Stripe;
using X402Serverless.Handler.Kyc;
using X402Serverless.Handler.Webhooks;
using X402Serverless.Handler.Settlement;
using X402Serverless.Sqlite;

namespace X402Serverless.Handler.Hosting;

/// <summary>Service registration: options, the embedded store, the facilitator, the forwarder and the endpoints' helpers.</summary>
internal static class GatewayServices
{
    public static void AddGateway(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var options = services.AddGatewayOptions(builder.Configuration);
        // Every problem carries a stable "code", including those the framework writes itself (binding failures, 404s).
        services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Extensions.Remove("exception");
            context.ProblemDetails.Extensions.TryAdd("code", context.ProblemDetails.Status switch
            {
                400 => "invalid_request",
                401 => "unauthorized",
                403 => "forbidden",
                404 => "not_found",
                405 => "method_not_allowed",
                413 => "payload_too_large",
                415 => "unsupported_media_type",
                _ => "internal_error",
            });
        });
        // A body over its route's limit surfaces as Kestrel's BadHttpRequestException while it is read: that is the
        // client's error (413, or 400 for a malformed body), not a 500, and not worth an error log.
        services.Configure<ExceptionHandlerOptions>(o =>
        {
            o.StatusCodeSelector = e => e is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError;
            o.SuppressDiagnosticsCallback = c => c.Exception is BadHttpRequestException;
        });
        services.TryAddTimeProvider();

        var dataDirectory = Path.GetFullPath(options.DataDirectory);
        Directory.CreateDirectory(dataDirectory);
        services.AddDataProtection()
            .SetApplicationName("X402Serverless")
            .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(dataDirectory, "keys")));

        services.AddSingleton(_ => new NetworkRegistry(options.Networks));
        services.AddSingleton(_ => new UpstreamAddressPolicy(options.AllowedUpstreamRanges));
        services.AddSingleton(sp => new LinkValidator(
            sp.GetRequiredService<NetworkRegistry>(), sp.GetRequiredService<UpstreamAddressPolicy>(), sp.GetRequiredService<FacilitatorCatalog>().Has));
        services.AddSingleton<PaymentVerifier>();

        services.AddStores(options, dataDirectory);
        services.AddSingleton(sp => new CreditCharges(sp.GetRequiredService<ILedger>(), sp.GetRequiredService<IPayerStore>(),
            sp.GetRequiredService<TimeProvider>(), options.Credits.OperatorFeeBasisPoints));
        services.AddSingleton<AllowanceReset>();
        services.AddSingleton<AllowanceTimer>();
        services.AddHostedService(sp => sp.GetRequiredService<AllowanceTimer>());
        services.AddSingleton<PayerAccounts>();
        services.AddSingleton<UsdcTopUps>();
        services.AddSingleton(sp => new TopUpServices(
            sp.GetRequiredService<NetworkRegistry>(), sp.GetRequiredService<PaymentVerifier>(), sp.GetRequiredService<FacilitatorCatalog>(),
            sp.GetRequiredService<IPaymentStore>(), sp.GetRequiredService<SettlementProcessor>(), sp.GetRequiredService<UsdcTopUps>(),
            sp.GetRequiredService<ILedger>(), sp.GetRequiredService<PaymentRequiredResponder>(), sp.GetRequiredService<PublicUrls>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<GatewayOptions>>()));
        services.AddSingleton<InboxProcessor>(sp => new StripeEventProcessor(sp.GetRequiredKeyedService<IWebhookInbox>(WebhookSources.Stripe),
            sp.GetRequiredService<ILedger>(), sp.GetRequiredService<IPayerStore>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<InboxProcessor>(sp => new KycEventProcessor(sp.GetRequiredKeyedService<IWebhookInbox>(WebhookSources.Kyc),
            sp.GetRequiredService<IKycStore>(), sp.GetRequiredService<IPayerStore>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<InboxSignal>();
        services.AddSingleton<KycAttestor>();
        services.AddSingleton<Usage.UsageRecorder>();
        services.AddHostedService(sp => sp.GetRequiredService<Usage.UsageRecorder>());
        services.AddHostedService<InboxWorker>();
        services.AddHostedService<TokenDomainVerifier>();
        services.AddSingleton(sp => new StripeCheckoutClient(new HttpClient { Timeout = TimeSpan.FromSeconds(30) }, sp.GetRequiredService<IOptions<StripeOptions>>()));
        services.AddSingleton<PayerAuthFilter>();
        if (SecretValue.Resolved(options.SealingKey) is { } sealingKey)
        {
            services.AddSingleton<ISecretSealer>(new AesGcmSecretSealer(sealingKey));
        }
        else
        {
            services.AddSingleton<ISecretSealer, DataProtectionSecretSealer>();
        }

        services.AddSingleton(sp => new HttpFacilitator(
            new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = TimeSpan.FromSeconds(120) },
            new Uri(options.FacilitatorUrl),
            sp.GetRequiredService<TimeProvider>()));
        services.AddSettlement(options);

        services.AddSingleton(sp => UpstreamClientFactory.Create(sp.GetRequiredService<UpstreamAddressPolicy>()));
        services.AddSingleton<Facilitator.FacilitatorGate>();
        services.AddSingleton<Facilitator.FacilitatorPolicy>();
        services.AddSingleton<Facilitator.FacilitatorGasMeter>();
        services.AddSingleton<Facilitator.FacilitatorService>();
        services.AddSingleton<ResponseIsolation>();
        services.AddSingleton<UpstreamForwarder>();
        services.AddSingleton<PublicUrls>();
        services.AddSingleton<LinkCache>();
        services.AddSingleton<PaymentRequiredResponder>();
        services.AddSingleton<PaidLinkEndpoint>();
        services.AddSingleton<ManagementAuthFilter>();
        services.AddSingleton<AdminKeyBootstrapper>();
        services.AddSingleton(sp => new LinkServices(
            sp.GetRequiredService<ILinkStore>(), sp.GetRequiredService<LinkValidator>(), sp.GetRequiredService<ISecretSealer>(),
            sp.GetRequiredService<LinkCache>(), sp.GetRequiredService<PublicUrls>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<GatewayOptions>>()));
        services.AddConsole(options);
    }

    private static void TryAddTimeProvider(this IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(TimeProvider)))
        {
            services.AddSingleton(TimeProvider.System);
        }
    }
}
