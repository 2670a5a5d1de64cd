using X402Serverless.Core.Access;

namespace X402Serverless.Handler.Management;

/// <summary>What a management endpoint needs. An endpoint that declares nothing needs <see cref="Admin"/>.</summary>
internal enum ManagementPermission
{
    /// <summary>Reading links, usage, payments, the organisation and facilitator usage: every role.</summary>
    ReadLinks,

    /// <summary>Creating, editing, deleting and importing links.</summary>
    ManageLinks,

    /// <summary>Reading payers, balances, the ledger and top-ups.</summary>
    ReadBilling,

    /// <summary>Payers, credits, allowances, caps, budgets, payer keys and top-ups.</summary>
    ManageBilling,

    /// <summary>Reading the organisation's keys and its audit log.</summary>
    ReadAccess,

    /// <summary>Keys, organisations, settings, and every endpoint that declares no permission.</summary>
    Admin,
}

/// <summary>The role matrix (docs/roles.md shows it as a table; a test checks the two agree).</summary>
internal static class RolePermissions
{
    private static readonly Dictionary<string, ManagementPermission[]> Granted = new(StringComparer.Ordinal)
    {
        [KeyRoles.Admin] = Enum.GetValues<ManagementPermission>(),
        [KeyRoles.Developer] = [ManagementPermission.ReadLinks, ManagementPermission.ManageLinks],
        [KeyRoles.Billing] = [ManagementPermission.ReadLinks, ManagementPermission.ReadBilling, ManagementPermission.ManageBilling],
        [KeyRoles.ReadOnly] = [ManagementPermission.ReadLinks, ManagementPermission.ReadBilling, ManagementPermission.ReadAccess],
    };

    /// <summary>The permission's name in problems and docs.</summary>
    public static string Name(this ManagementPermission permission) => permission switch
    {
        ManagementPermission.ReadLinks => "links.read",
        ManagementPermission.ManageLinks => "links.manage",
        ManagementPermission.ReadBilling => "billing.read",
        ManagementPermission.ManageBilling => "billing.manage",
        ManagementPermission.ReadAccess => "access.read",
        _ => "admin",
    };

    /// <summary>An unknown role (a store edited by hand) is allowed nothing.</summary>
    public static bool Allows(string role, ManagementPermission permission) =>
        Granted.TryGetValue(role, out var granted) && granted.Contains(permission);
}

/// <summary>Endpoint metadata: the permission an endpoint (or every endpoint of a group) needs, whatever its method.</summary>
internal sealed record RequiresPermission(ManagementPermission Permission);

/// <summary>
/// Endpoint metadata for a group: reads (GET, HEAD) need <see cref="Read"/>, anything else <see cref="Write"/>.
/// An endpoint's own <see cref="RequiresPermission"/> wins over its group's area.
/// </summary>
internal sealed record ManagementArea(ManagementPermission Read, ManagementPermission Write)
{
    public static readonly ManagementArea Links = new(ManagementPermission.ReadLinks, ManagementPermission.ManageLinks);
    public static readonly ManagementArea Billing = new(ManagementPermission.ReadBilling, ManagementPermission.ManageBilling);
    public static readonly ManagementArea Access = new(ManagementPermission.ReadAccess, ManagementPermission.Admin);

    /// <summary>What a request to an endpoint needs: its own permission, else its area's for the method, else admin.</summary>
    public static ManagementPermission Required(Endpoint? endpoint, string method)
    {
        var metadata = endpoint?.Metadata;
        if (metadata?.GetMetadata<RequiresPermission>() is { } own)
        {
            return own.Permission;
        }
        if (metadata?.GetMetadata<ManagementArea>() is { } area)
        {
            return HttpMethods.IsGet(method) || HttpMethods.IsHead(method) ? area.Read : area.Write;
        }
        return ManagementPermission.Admin;
    }
}

/// <summary>How endpoints declare what they need.</summary>
internal static class PermissionConventions
{
    /// <summary>A sub-group of <paramref name="api"/> whose endpoints belong to <paramref name="area"/>.</summary>
    public static RouteGroupBuilder InArea(this RouteGroupBuilder api, ManagementArea area) =>
        api.MapGroup("").WithMetadata(area);

    /// <summary>A sub-group of <paramref name="api"/> whose endpoints all need <paramref name="permission"/>.</summary>
    public static RouteGroupBuilder Requiring(this RouteGroupBuilder api, ManagementPermission permission) =>
        api.MapGroup("").WithMetadata(new RequiresPermission(permission));

    public static TBuilder Requires<TBuilder>(this TBuilder builder, ManagementPermission permission)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequiresPermission(permission));
}
