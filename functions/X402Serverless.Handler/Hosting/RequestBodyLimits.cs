using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Hosting;

/// <summary>
/// Bounds every request body by route, far below Kestrel's 30 MB default: management and facilitator JSON is small,
/// webhooks and host invocations a little larger, MCP messages 256 KB, and paid links forward up to <see cref="GatewayOptions.MaxForwardedBodyBytes"/>.
/// A declared Content-Length above the bound is refused here with 413 before anything runs (no payment is looked
/// at); a chunked body stops at the bound inside Kestrel, whose BadHttpRequestException the exception handler turns
/// into the same 413 problem.
/// </summary>
internal sealed class RequestBodyLimits(RequestDelegate next, IOptions<GatewayOptions> options)
{
    public const string TooLargeCode = "payload_too_large";

    /// <summary>The management API, the console's forms and the facilitator's JSON.</summary>
    public const long JsonBytes = 64 * 1024;

    /// <summary>The MCP endpoint's JSON-RPC messages: a tool call carries at most this much (its JSON body included).</summary>
    public const long McpBytes = 256 * 1024;

    /// <summary>Webhooks (the receiver keeps its own 512 KB bound) and the Functions host's invocations.</summary>
    public const long OtherBytes = 1024 * 1024;

    /// <summary>An OpenAPI import: a document of up to 1 MB, as JSON string text (escaping can double it) or a form.</summary>
    public const long ImportBytes = 3 * 1024 * 1024;

    private static readonly string[] ImportPaths = ["/api/links/import", "/console/links/import"];

    private static readonly string[] JsonPrefixes = ["/api", "/facilitator", "/console"];

    private readonly long _forwarded = options.Value.MaxForwardedBodyBytes;

    public async Task InvokeAsync(HttpContext http)
    {
        var limit = LimitFor(http.Request.Path);
        if (http.Request.ContentLength > limit)
        {
            await TooLarge(limit).ExecuteAsync(http);
            return;
        }
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }
        await next(http);
    }

    public static IResult TooLarge(long limit) =>
        Problem.Of(StatusCodes.Status413PayloadTooLarge, TooLargeCode, "The request body is too large.", $"This route takes at most {limit} bytes.");

    private long LimitFor(PathString path)
    {
        if (path.StartsWithSegments("/l", StringComparison.OrdinalIgnoreCase))
        {
            return _forwarded;
        }
        if (path.StartsWithSegments(McpServices.Path, StringComparison.OrdinalIgnoreCase))
        {
            return McpBytes;
        }
        if (ImportPaths.Any(p => path.Equals(p, StringComparison.OrdinalIgnoreCase)))
        {
            return ImportBytes;
        }
        return JsonPrefixes.Any(p => path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase)) ? JsonBytes : OtherBytes;
    }
}
