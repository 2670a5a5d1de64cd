using Microsoft.Extensions.Options;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Hosting;

/// <summary>
/// On a separate LinksOrigin, where upstream content runs unsandboxed, the gateway serves paid links and the
/// readiness probe only: the console, management API and everything else answer 404 there, so a provider's page
/// has nothing of ours in its origin to read.
/// </summary>
internal sealed class LinksOriginGuard(RequestDelegate next, IOptions<GatewayOptions> options)
{
    private readonly Uri? _linksOrigin = LinksOrigin.Parse(options.Value.LinksOrigin);
    private readonly bool _behindFrontDoor = !string.IsNullOrWhiteSpace(options.Value.FrontDoorId);

    public async Task InvokeAsync(HttpContext http)
    {
        var path = http.Request.Path;
        if (_linksOrigin is not null && path != "/" && !path.StartsWithSegments("/l", StringComparison.OrdinalIgnoreCase)
            && LinksOrigin.Addressed(http.Request, _linksOrigin, _behindFrontDoor))
        {
            await Problem.NotFound("Resource").ExecuteAsync(http);
            return;
        }
        await next(http);
    }
}
