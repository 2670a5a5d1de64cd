using Microsoft.Extensions.Options;

namespace X402Serverless.Handler.Hosting;

/// <summary>
/// The gateway's public origins: PublicBaseUrl when configured (behind Front Door), else the request's own; paid
/// links on LinksOrigin when the deployment serves them from an origin of their own.
/// </summary>
internal sealed class PublicUrls(IOptions<GatewayOptions> options)
{
    private readonly string? _configured = string.IsNullOrWhiteSpace(options.Value.PublicBaseUrl)
        ? null
        : options.Value.PublicBaseUrl.TrimEnd('/');

    private readonly string? _links = LinksOrigin.Parse(options.Value.LinksOrigin)?.GetLeftPart(UriPartial.Authority);

    /// <summary>Whether PublicBaseUrl is set (else the origin is the request's own, Host header included).</summary>
    public bool IsConfigured => _configured is not null;

    public string BaseUrl(HttpRequest request) =>
        _configured ?? $"{request.Scheme}://{request.Host}{request.PathBase}";

    /// <summary>Where paid URLs /l/{id} are served.</summary>
    public string LinkBaseUrl(HttpRequest request) => _links ?? BaseUrl(request);

    public string ResourceUrl(HttpRequest request) =>
        (request.Path.StartsWithSegments("/l") ? LinkBaseUrl(request) : BaseUrl(request)) + request.Path + request.QueryString;
}
