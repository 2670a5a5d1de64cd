using Microsoft.AspNetCore.Authentication.Cookies;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.ProviderConsole;

/// <summary>Registration for the console: static server-rendered components, its cookie session and antiforgery.</summary>
internal static class ConsoleServices
{
    public static void AddConsole(this IServiceCollection services, GatewayOptions options)
    {
        services.AddRazorComponents();
        // Behind Front Door the handler sees http while the browser uses https: the configured public origin decides.
        var secure = options.PublicBaseUrl?.StartsWith("https://", StringComparison.OrdinalIgnoreCase) == true
            ? CookieSecurePolicy.Always
            : CookieSecurePolicy.SameAsRequest;
        // The console's cookie is read only where its policy asks for it (the policy names the scheme): left the default,
        // it would be looked for on every request, paid calls and 402s included.
        AppContext.SetSwitch("Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme", true);
        services.AddAuthentication().AddCookie(ConsoleAuth.Scheme, o =>
        {
            o.Cookie.Name = ConsoleAuth.CookieName;
            o.Cookie.Path = ConsoleAuth.BasePath;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = secure;
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
            o.SlidingExpiration = true;
            o.LoginPath = ConsoleAuth.LoginPath;
            o.AccessDeniedPath = ConsoleAuth.LoginPath;
            o.ReturnUrlParameter = "returnUrl";
            o.Events.OnValidatePrincipal = ConsoleAuth.ValidateAsync;
        });
        services.AddOptions<CookieAuthenticationOptions>(ConsoleAuth.Scheme).Configure<TimeProvider>((o, time) => o.TimeProvider = time);
        services.AddAuthorizationBuilder().AddPolicy(ConsoleAuth.Policy, p => p.AddAuthenticationSchemes(ConsoleAuth.Scheme).RequireAuthenticatedUser());
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = ConsoleAuth.AntiforgeryCookieName;
            o.Cookie.Path = ConsoleAuth.BasePath;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = secure;
        });
        services.AddSingleton<ConsoleFigures>();
    }
}
