using Microsoft.Extensions.Options;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Forwarding;

/// <summary>
/// Keeps a provider's content from acting as the gateway. Paid links share an origin with the console and the
/// management API, so an upstream's HTML is put in a sandbox: its scripts run, but in an opaque origin that can
/// read no cookie, storage or same-origin response of ours. Served from a separate LinksOrigin it needs none.
/// </summary>
internal sealed class ResponseIsolation(IOptions<GatewayOptions> options)
{
    /// <summary>Never allow-same-origin: that would hand the page our origin back.</summary>
    public const string SandboxPolicy =
        "sandbox allow-scripts allow-forms allow-popups allow-popups-to-escape-sandbox allow-modals allow-downloads";

    private readonly Uri? _linksOrigin = LinksOrigin.Parse(options.Value.LinksOrigin);
    private readonly bool _behindFrontDoor = !string.IsNullOrWhiteSpace(options.Value.FrontDoorId);

    /// <summary>
    /// Adds our policy beside the upstream's own: browsers enforce every Content-Security-Policy header, so the
    /// upstream's can only narrow ours, never widen it.
    /// </summary>
    public void Apply(HttpContext http)
    {
        var headers = http.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        if (_linksOrigin is null || !LinksOrigin.Addressed(http.Request, _linksOrigin, _behindFrontDoor))
        {
            headers.Append("Content-Security-Policy", SandboxPolicy);
        }
    }
}
