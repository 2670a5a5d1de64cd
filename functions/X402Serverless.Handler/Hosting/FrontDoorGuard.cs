using Microsoft.Extensions.Options;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Hosting;

/// <summary>
/// Behind Front Door, every public route (paid links, API, console, hooks, facilitator, .well-known) must carry our
/// profile's X-Azure-FDID: the platform's IP rule admits every Front Door customer; the id narrows it to ours. Only
/// the readiness probe and the host's invocation routes (loopback, under the host only) come from the Functions host
/// itself and are not checked: anything not listed as the host's is public, so a new route is guarded by default.
/// </summary>
internal sealed class FrontDoorGuard(RequestDelegate next, IOptions<GatewayOptions> options)
{
    private readonly string? _frontDoorId = string.IsNullOrWhiteSpace(options.Value.FrontDoorId) ? null : options.Value.FrontDoorId.Trim();

    public async Task InvokeAsync(HttpContext http)
    {
        if (_frontDoorId is not null && IsPublic(http.Request.Path)
            && !string.Equals(http.Request.Headers["X-Azure-FDID"].ToString(), _frontDoorId, StringComparison.OrdinalIgnoreCase))
        {
            await Problem.Of(StatusCodes.Status403Forbidden, "not_through_front_door", "Requests must come through the gateway's Front Door endpoint.")
                .ExecuteAsync(http);
            return;
        }
        await next(http);
    }

    private static bool IsPublic(PathString path) => path != "/" && !FunctionsHost.IsInvocationRoute(path);
}
