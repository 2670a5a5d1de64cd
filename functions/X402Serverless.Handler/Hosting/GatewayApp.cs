using X402Serverless.Handler.Audit;
using X402Serverless.Handler.Credits;
using X402Serverless.Handler.Facilitator;
using X402Serverless.Handler.Functions;
using X402Serverless.Handler.Kyc;
using X402Serverless.Handler.Listings;
using X402Serverless.Handler.Management;
using X402Serverless.Handler.Passes;
using X402Serverless.Handler.OutboundWebhooks;
using X402Serverless.Handler.Payers;
using X402Serverless.Handler.Paywall;
using X402Serverless.Handler.ProviderConsole;
using X402Serverless.Handler.Signup;
using X402Serverless.Handler.Stripe;

namespace X402Serverless.Handler.Hosting;

/// <summary>
/// Builds the gateway. The same app runs under the Azure Functions host (custom handler on
/// FUNCTIONS_CUSTOMHANDLER_PORT) and standalone on a laptop (http://127.0.0.1:7071).
/// </summary>
public static class GatewayApp
{
    public const string DefaultUrl = "http://127.0.0.1:7071";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        configure?.Invoke(builder);
        if (FunctionsHost.Port(builder.Configuration) is { } port)
        {
            builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        }
        else if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }
        ConfigurationShape.Check(builder.Configuration);
        builder.AddGateway();

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseMiddleware<FrontDoorGuard>();
        app.UseMiddleware<LinksOriginGuard>();
        app.UseMiddleware<RequestBodyLimits>();
        app.UseStatusCodePages();
        app.UseRateLimiter();

        // The Functions host polls "/" until the handler answers; it doubles as a liveness probe, and browsers get the catalogue.
        app.MapMarketplace();
        app.MapMcpEndpoint();

        // Key, then audit (so refusals are recorded too), then role: an endpoint declaring no permission needs admin (docs/roles.md).
        var api = app.MapGroup("/api").AddEndpointFilter<ManagementAuthFilter>()
            .AddEndpointFilter<ManagementAuditFilter>().AddEndpointFilter<ManagementPermissionFilter>();
        api.InArea(ManagementArea.Links).MapLinkImportApi();
        api.InArea(ManagementArea.Links).MapLinksApi();
        api.InArea(ManagementArea.Links).MapInboxApi();
        api.MapOrganisationsApi();
        api.MapKeysApi();
        api.MapAuditApi();
        api.InArea(ManagementArea.Links).MapPaymentsApi();
        api.InArea(ManagementArea.Links).MapUsageApi();
        api.InArea(ManagementArea.Billing).MapPayersApi();
        api.InArea(ManagementArea.Billing).MapLedgerApi();
        api.InArea(ManagementArea.Billing).MapOrganisationCardTopUps();
        api.Requiring(ManagementPermission.ManageBilling).MapPoolUsdcTopUp();
        api.InArea(ManagementArea.Links).MapFacilitatorUsage();
        api.InArea(ManagementArea.Links).MapLinkPassesApi();
        api.MapWebhooksApi();
        app.MapMeApi();
        app.MapSignup();
        StripeWebhookEndpoint.Map(app);
        KycCallbackEndpoint.Map(app);
        app.MapKycPublicKey();

        app.MapFacilitator();
        var hostOnly = app.MapGroup("").AddEndpointFilter<HostInvocationFilter>();
        InboxEventFunctions.Map(hostOnly);
        SettlementJobFunction.Map(hostOnly);
        InboxDeliveryFunction.Map(hostOnly);
        AllowanceResetFunction.Map(hostOnly);
        MaintenanceFunction.Map(hostOnly);

        app.MapConsole();
        app.MapPaywall();
        app.MapPasses();
        app.MapCardCheckouts();
        PaidLinkEndpoint.Map(app);
        return app;
    }

    /// <summary>Creates the operator organisation on an empty store, then starts serving.</summary>
    public static async Task StartAsync(WebApplication app, CancellationToken cancellationToken = default)
    {
        await app.Services.GetRequiredService<GatewayStartup>().RunAsync(cancellationToken);
        await app.StartAsync(cancellationToken);
    }
}
