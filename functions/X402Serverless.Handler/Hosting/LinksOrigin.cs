namespace X402Serverless.Handler.Hosting;

/// <summary>
/// The separate origin paid links may be served from (X402:LinksOrigin). There, upstream content shares an origin
/// only with other paid links, never with the console or the management API, so it needs no sandbox; and the
/// gateway serves nothing else on it.
/// </summary>
internal static class LinksOrigin
{
    /// <summary>The configured origin, or null when links share the gateway's origin. A malformed value stops the start.</summary>
    public static Uri? Parse(string? configured)
    {
        if (string.IsNullOrWhiteSpace(configured))
        {
            return null;
        }
        if (!Uri.TryCreate(configured.Trim(), UriKind.Absolute, out var origin) || origin.Scheme is not ("http" or "https")
            || origin.AbsolutePath != "/" || !string.IsNullOrEmpty(origin.Query))
        {
            throw new InvalidOperationException("X402:LinksOrigin must be an origin such as https://links.example.com (scheme, host, optional port; no path).");
        }
        return origin;
    }

    /// <summary>
    /// Whether the request was addressed to <paramref name="origin"/>'s host. Behind Front Door the origin host header
    /// is the app's own, and Front Door passes the caller's host in X-Forwarded-Host (a browser cannot set it).
    /// </summary>
    public static bool Addressed(HttpRequest request, Uri origin, bool behindFrontDoor)
    {
        var host = behindFrontDoor && request.Headers["X-Forwarded-Host"].ToString() is { Length: > 0 } forwarded
            ? forwarded
            : request.Host.Value ?? "";
        return string.Equals(host, origin.Authority, StringComparison.OrdinalIgnoreCase)
            || (origin.IsDefaultPort && string.Equals(host, origin.Host, StringComparison.OrdinalIgnoreCase));
    }
}
