using Microsoft.Extensions.Options;

namespace X402Serverless.Handler.Hosting;

/// <summary>The gateway's public origin: PublicBaseUrl when configured (behind Front Door), else the request's own.</summary>
internal sealed class PublicUrls(IOptions<GatewayOptions> options)
{
    private readonly string? _configured = string.IsNullOrWhiteSpace(options.Value.PublicBaseUrl)
        ? null
        : options.Value.PublicBaseUrl.TrimEnd('/');

    public string BaseUrl(HttpRequest request) =>
        _configured ?? $"{request.Scheme}://{request.Host}{request.PathBase}";

    public string ResourceUrl(HttpRequest request) =>
        BaseUrl(request) + request.Path + request.QueryString;
}
