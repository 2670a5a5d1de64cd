using X402Serverless.Handler.Management;

namespace X402Serverless.Handler.Hosting;

/// <summary>The management API under /api: its key check, the first admin key, and what the links endpoints use.</summary>
internal static class ManagementServices
{
    public static IServiceCollection AddManagementApi(this IServiceCollection services)
    {
        services.AddSingleton<ManagementAuthFilter>();
        services.AddSingleton<ManagementPermissionFilter>();
        services.AddSingleton<Audit.ManagementAuditFilter>();
        services.AddSingleton<Audit.AuditRecorder>();
        services.AddSingleton<AdminKeyBootstrapper>();
        services.AddSingleton<LinkServices>();
        services.AddSingleton<OpenApiDocumentFetcher>();
        services.AddSingleton<LinkImporter>();
        services.AddSingleton<Listings.ListingCatalogue>();
        services.AddSingleton<Listings.CataloguePages>();
        services.AddSingleton<Listings.ReferencePage>();
        return services;
    }
}
