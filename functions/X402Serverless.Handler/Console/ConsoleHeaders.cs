namespace X402Serverless.Handler.ProviderConsole;

/// <summary>
/// Console responses are private and script-free: never stored by caches, and a policy that allows only the
/// console's own stylesheet and forms posting back to itself.
/// </summary>
internal sealed class ConsoleHeaders(RequestDelegate next)
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public Task InvokeAsync(HttpContext context)
    {
        // Set when the response starts, so nothing later in the pipeline (antiforgery sets its own) can loosen them.
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.CacheControl = "no-store";
            headers.Pragma = "no-cache";
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            return Task.CompletedTask;
        });
        return next(context);
    }
}
