using X402Serverless.Handler.Paywall;

namespace X402Serverless.Handler.Mcp;

/// <summary>A paid request as an MCP call describes it: the link, the method, path and query under it, a JSON body, a payment header.</summary>
internal sealed record PaidRequest(string LinkId, string Method, PathString PathUnderLink, QueryString Query, byte[]? JsonBody,
    string? PaymentHeader, string? PaymentValue);

/// <summary>The paid path's answer as it would have gone out over HTTP: status, headers, and the body (cut at the cap).</summary>
internal sealed record PaidAnswer(int Status, IHeaderDictionary Headers, byte[] Body, long TotalBytes, bool Truncated);

/// <summary>
/// Runs an MCP call through the paid link's own endpoint (<see cref="PaidLinkEndpoint"/>), in process, as if the same
/// request had come to /l/{id}/{rest}: the same link lookup, price rules, authorization (x402 check, KYC, replay
/// guard), forwarding, capture or release and settlement, so a call paid here is charged exactly as over HTTP and
/// a payment used on one is used on both. Only the transport differs: the request is built from the tool's
/// arguments (on the /mcp request's host and caller address, so the 402's resource is the public paid URL) and the
/// answer is read from memory.
/// </summary>
internal sealed class PaidLinkInvoker(PaidLinkEndpoint endpoint)
{
    /// <summary>The most of an upstream answer one tool result carries; the rest is counted and cut.</summary>
    public const int MaxAnswerBytes = 4 * 1024 * 1024;

    public async Task<PaidAnswer> InvokeAsync(HttpContext caller, PaidRequest paid)
    {
        var http = new DefaultHttpContext { RequestServices = caller.RequestServices, RequestAborted = caller.RequestAborted };
        http.Connection.RemoteIpAddress = caller.Connection.RemoteIpAddress;
        http.Connection.RemotePort = caller.Connection.RemotePort;
        var request = http.Request;
        request.Protocol = "HTTP/1.1";
        request.Method = paid.Method;
        request.Scheme = caller.Request.Scheme;
        request.Host = caller.Request.Host;
        request.PathBase = caller.Request.PathBase;
        var linkPath = new PathString("/l/" + paid.LinkId);
        request.Path = linkPath.Add(paid.PathUnderLink);
        request.QueryString = paid.Query;
        request.Headers.Accept = "application/json";
        if (paid.JsonBody is { } body)
        {
            request.ContentType = "application/json";
            request.ContentLength = body.Length;
            request.Body = new MemoryStream(body, writable: false);
        }
        if (paid.PaymentHeader is { } name)
        {
            request.Headers[name] = paid.PaymentValue;
        }
        using var answer = new CappedStream(MaxAnswerBytes);
        http.Response.Body = answer;

        // What routing would give as {**rest}: the path after /l/{id}/, none for the link itself.
        var rest = paid.PathUnderLink.Value is { Length: > 1 } under ? under[1..] : null;
        var result = await endpoint.HandleAsync(http, paid.LinkId, rest);
        await result.ExecuteAsync(http);
        return new PaidAnswer(http.Response.StatusCode, http.Response.Headers, answer.Kept.ToArray(), answer.Total, answer.Truncated);
    }
}
