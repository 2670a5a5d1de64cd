using Microsoft.Extensions.Options;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Hosting;

/// <summary>
/// Behind Front Door, public routes must carry our profile's X-Azure-FDID (the platform's IP rule admits every Front
/// Door customer; the id narrows it to ours). Host invocations (/SettlementJob, ...) and the readiness probe come from
/// the Functions host itself and are not checked.
/// </summary>
internal sealed class FrontDoorGuard(RequestDelegate next, IOptions<GatewayOptions> options)
{
    private static readonly string[] PublicPrefixes = ["/l", "/api", "/hooks", "/facilitator"];
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

    private static bool IsPublic(PathString path) =>
        PublicPrefixes.Any(p => path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase));
}
