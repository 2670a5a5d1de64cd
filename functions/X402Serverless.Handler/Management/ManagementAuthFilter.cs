using X402Serverless.Core.Access;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Management;

/// <summary>Bearer management keys: hashed, looked up, bound to their organisation.</summary>
internal sealed class ManagementAuthFilter(IAccessStore access) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var header = http.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || header.Length <= scheme.Length)
        {
            return Unauthorized(http, "Send 'Authorization: Bearer <management key>'.");
        }
        var key = header[scheme.Length..].Trim();
        var found = await access.FindByKeyHashAsync(ManagementKeys.Hash(key), http.RequestAborted);
        if (found is not { } caller)
        {
            return Unauthorized(http, "The management key is not valid.");
        }
        new CallerContext(caller.Key, caller.Organisation).Attach(http);
        return await next(context);
    }

    private static IResult Unauthorized(HttpContext http, string detail)
    {
        http.Response.Headers.WWWAuthenticate = "Bearer";
        return Problem.Of(StatusCodes.Status401Unauthorized, "unauthorized", "Authentication required.", detail);
    }
}
