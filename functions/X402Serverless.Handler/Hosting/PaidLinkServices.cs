using X402Serverless.Core.Links;
using X402Serverless.Core.Settlement;
using X402Serverless.Handler.Paywall;
using X402Serverless.Handler.Usage;

namespace X402Serverless.Handler.Hosting;

/// <summary>The paid path: link validation and caching, the 402 responder, the charges and the pipeline, the endpoint and its usage counters.</summary>
internal static class PaidLinkServices
{
    public static IServiceCollection AddPaidLinks(this IServiceCollection services)
    {
        // The validator asks the catalog whether a facilitator kind can be used; the catalog is built in AddSettlement.
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<LinkValidator>(sp, (Func<string, bool>)sp.GetRequiredService<FacilitatorCatalog>().Has));
        services.AddSingleton<PublicUrls>();
        services.AddSingleton<LinkCache>();
        services.AddSingleton<PaymentRequiredResponder>();
        services.AddSingleton<Charges.X402Charges>();
        services.AddSingleton<X402Authorizer>();
        services.AddSingleton<Transfers.TransferAuthorizer>();
        services.AddSingleton<RateLimits.TokenBuckets>();
        services.AddSingleton<RateLimits.RateLimitGate>();
        services.AddSingleton<PaidCallAuthorizer>();
        services.AddSingleton<Passes.SiwxVerifier>();
        services.AddSingleton<Passes.PassAuthorizer>();
        services.AddSingleton<Passes.PassIssuer>();
        services.AddSingleton<Passes.PassServices>();
        services.AddSingleton<PaidCallPipeline>();
        services.AddSingleton<Idempotency.IdentifiedCalls>();
        services.AddSingleton<Idempotency.KeyedCalls>();
        services.AddSingleton<PaidLinkEndpoint>();
        services.AddHostedSingleton<UsageRecorder>();
        services.AddSingleton<UsageReports>();
        return services;
    }
}
