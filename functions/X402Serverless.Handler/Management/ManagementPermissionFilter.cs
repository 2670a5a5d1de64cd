using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Management;

/// <summary>
/// Refuses a request the caller's key's role does not allow (403 forbidden_for_role). Runs after
/// <see cref="ManagementAuthFilter"/>; what an endpoint needs is its metadata (<see cref="ManagementArea.Required"/>),
/// and an endpoint that declares nothing needs admin, so a new endpoint is safe until someone decides otherwise.
/// </summary>
internal sealed class ManagementPermissionFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var caller = CallerContext.Of(http);
        var required = ManagementArea.Required(http.GetEndpoint(), http.Request.Method);
        if (!RolePermissions.Allows(caller.Key.Role, required))
        {
            return Problem.Of(StatusCodes.Status403Forbidden, "forbidden_for_role", "This key's role does not allow this.",
                $"A '{caller.Key.Role}' key lacks the '{required.Name()}' permission; use a key with a role that has it (see docs/roles.md).");
        }
        return await next(context);
    }
}
