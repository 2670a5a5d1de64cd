using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using X402Serverless.Core.Access;
using X402Serverless.Core.Ports;

// Not "...Handler.Console": a namespace named Console would shadow System.Console for the whole handler.
namespace X402Serverless.Handler.ProviderConsole;

/// <summary>
/// The console's cookie session. The cookie holds the organisation and key ids (never the key); every request
/// re-checks that the key still exists, so revoking it ends the session.
/// </summary>
internal static class ConsoleAuth
{
    public const string Scheme = "X402Console";
    public const string Policy = "X402Console";
    public const string BasePath = "/console";
    public const string LoginPath = "/console/login";
    public const string CookieName = "x402_console";
    public const string AntiforgeryCookieName = "x402_console_af";

    private const string OrganisationClaim = "x402:org";
    private const string OrganisationNameClaim = "x402:org_name";
    private const string KeyClaim = "x402:key";
    private const string KeyPrefixClaim = "x402:key_prefix";
    private const string RoleClaim = "x402:role";

    public static ClaimsPrincipal Principal(AccessKey key, Organisation organisation) =>
        new(new ClaimsIdentity(
            [
                new Claim(OrganisationClaim, organisation.Id),
                new Claim(OrganisationNameClaim, organisation.Name),
                new Claim(KeyClaim, key.Id),
                new Claim(KeyPrefixClaim, key.Prefix),
                new Claim(RoleClaim, key.Role),
            ],
            Scheme));

    /// <summary>
    /// Who is signed in, or null when the principal is not a console session (or one from before roles: without a
    /// role it would have none to check, so it signs in again). A key's role never changes, so the claim stays true.
    /// </summary>
    public static ConsoleUser? User(ClaimsPrincipal principal) =>
        principal.FindFirst(OrganisationClaim)?.Value is { } org && principal.FindFirst(KeyClaim)?.Value is { } key
            && principal.FindFirst(RoleClaim)?.Value is { } role
            ? new ConsoleUser(org, principal.FindFirst(OrganisationNameClaim)?.Value ?? org, key,
                principal.FindFirst(KeyPrefixClaim)?.Value ?? "", role)
            : null;

    /// <summary>Only a console path is a place to return to after signing in; anything else goes to the dashboard.</summary>
    public static string SafeReturnUrl(string? returnUrl) =>
        returnUrl is not null && (returnUrl == BasePath || returnUrl.StartsWith(BasePath + "/", StringComparison.Ordinal))
            && !returnUrl.StartsWith(LoginPath, StringComparison.Ordinal) && !returnUrl.Contains("//", StringComparison.Ordinal)
            && !returnUrl.Contains('\\', StringComparison.Ordinal)
            ? returnUrl
            : BasePath;

    /// <summary>Cookie validation on every request: the session lives only as long as its management key.</summary>
    public static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var user = context.Principal is { } p ? User(p) : null;
        var access = context.HttpContext.RequestServices.GetRequiredService<IAccessStore>();
        if (user is null || !(await access.ListKeysAsync(user.OrganisationId, context.HttpContext.RequestAborted)).Any(k => k.Id == user.KeyId))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(Scheme);
        }
    }
}

/// <summary>The signed-in organisation and the key used to sign in (its id, prefix and role).</summary>
internal sealed record ConsoleUser(string OrganisationId, string OrganisationName, string KeyId, string KeyPrefix, string Role)
{
    public bool May(Management.ManagementPermission permission) => Management.RolePermissions.Allows(Role, permission);

    public Core.Access.AuditActor Actor => new(Core.Access.AuditActor.KeyKind, KeyId, KeyPrefix, Role);
}
