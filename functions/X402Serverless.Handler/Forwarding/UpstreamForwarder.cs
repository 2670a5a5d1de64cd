using System.Net.Sockets;
using Microsoft.Extensions.Options;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Forwarding;

/// <summary>
/// Sends the payer's request to the provider's upstream: the request body streamed, hop-by-hop headers dropped,
/// the provider's secret headers injected, credentials and our state withheld (HopByHopHeaders). Returns once response headers arrive; the caller decides what to do
/// with the body (hold it for settlement, or pass a failure straight back).
/// </summary>
internal sealed class UpstreamForwarder(HttpMessageInvoker client, ResponseIsolation isolation, IOptions<GatewayOptions> options)
{
    private readonly TimeSpan _timeout = TimeSpan.FromSeconds(options.Value.UpstreamTimeoutSeconds);

    public TimeSpan Timeout => _timeout;

    /// <summary>Forwards the request to <paramref name="rest"/> below the upstream URL, within the upstream timeout.</summary>
    public async Task<UpstreamOutcome> SendAsync(HttpContext http, Uri upstream, string? rest, IReadOnlyList<KeyValuePair<string, string>> injected)
    {
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        timeout.CancelAfter(_timeout);
        var outcome = await SendWithinAsync(http, TargetFor(upstream, rest, http.Request.QueryString), injected, timeout.Token);
        if (outcome.Response is null)
        {
            timeout.Dispose();
            return outcome;
        }
        return outcome with { Timeout = timeout };
    }

    private async Task<UpstreamOutcome> SendWithinAsync(HttpContext http, Uri target, IReadOnlyList<KeyValuePair<string, string>> injected, CancellationToken cancellationToken)
    {
        using var message = BuildRequest(http, target, injected);
        try
        {
            var response = await client.SendAsync(message, cancellationToken);
            return new UpstreamOutcome(response, UpstreamFailure.None, null);
        }
        catch (OperationCanceledException) when (!http.RequestAborted.IsCancellationRequested)
        {
            return new UpstreamOutcome(null, UpstreamFailure.Timeout, $"The upstream did not answer within {_timeout.TotalSeconds:0} s.");
        }
        catch (HttpRequestException e) when (e.InnerException is UpstreamAddressRefusedException refused)
        {
            return new UpstreamOutcome(null, UpstreamFailure.AddressRefused, refused.Message);
        }
        catch (HttpRequestException e)
        {
            return new UpstreamOutcome(null, UpstreamFailure.Unreachable, e.InnerException is SocketException s ? s.SocketErrorCode.ToString() : e.HttpRequestError.ToString());
        }
    }

    /// <summary>Passes the upstream's answer to the payer: its status, end-to-end headers (isolated from our origin) and body.</summary>
    public async Task CopyResponseAsync(HttpContext http, HttpResponseMessage upstream, CancellationToken cancellationToken)
    {
        var response = http.Response;
        response.StatusCode = (int)upstream.StatusCode;
        // NonValidated: the headers as received, neither parsed nor copied into arrays (a proxy passes them as they are).
        CopyHeaders(upstream.Headers.NonValidated, response.Headers);
        CopyHeaders(upstream.Content.Headers.NonValidated, response.Headers);
        isolation.Apply(http);
        await using var body = await upstream.Content.ReadAsStreamAsync(cancellationToken);
        await body.CopyToAsync(response.Body, cancellationToken);
    }

    public static Uri TargetFor(Uri upstream, string? rest, QueryString query)
    {
        if (string.IsNullOrEmpty(rest) && !query.HasValue)
        {
            return upstream; // the link's own URL, already parsed once by the link cache
        }
        var builder = new UriBuilder(upstream);
        if (!string.IsNullOrEmpty(rest))
        {
            builder.Path = builder.Path.TrimEnd('/') + "/" + rest;
        }
        if (query.HasValue)
        {
            var extra = query.Value!.TrimStart('?');
            builder.Query = string.IsNullOrEmpty(builder.Query) ? extra : builder.Query.TrimStart('?') + "&" + extra;
        }
        return builder.Uri;
    }

    private static HttpRequestMessage BuildRequest(HttpContext http, Uri target, IReadOnlyList<KeyValuePair<string, string>> injected)
    {
        var request = http.Request;
        // HttpMethod.Parse returns the shared instance of a known method instead of a new one per request.
        var message = new HttpRequestMessage(HttpMethod.Parse(request.Method), target) { Version = System.Net.HttpVersion.Version11 };
        if (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            message.Content = new StreamContent(request.Body);
        }
        foreach (var (name, values) in request.Headers)
        {
            if (HopByHopHeaders.SkipOnRequest(name) || IsInjected(injected, name))
            {
                continue;
            }
            // One value (nearly always) is added as the string it is, not copied into a new array.
            if (values.Count == 1)
            {
                var value = values[0];
                if (!message.Headers.TryAddWithoutValidation(name, value))
                {
                    message.Content?.Headers.TryAddWithoutValidation(name, value);
                }
                continue;
            }
            IEnumerable<string?> all = values;
            if (!message.Headers.TryAddWithoutValidation(name, all))
            {
                message.Content?.Headers.TryAddWithoutValidation(name, all);
            }
        }
        foreach (var (name, value) in injected)
        {
            if (!message.Headers.TryAddWithoutValidation(name, value))
            {
                message.Content?.Headers.TryAddWithoutValidation(name, value);
            }
        }
        var remote = http.Connection.RemoteIpAddress?.ToString();
        if (remote is not null)
        {
            message.Headers.TryAddWithoutValidation("X-Forwarded-For", remote);
        }
        message.Headers.TryAddWithoutValidation("X-Forwarded-Proto", request.Scheme);
        message.Headers.TryAddWithoutValidation("X-Forwarded-Host", request.Host.Value);
        return message;
    }

    private static bool IsInjected(IReadOnlyList<KeyValuePair<string, string>> injected, string name)
    {
        for (var i = 0; i < injected.Count; i++)
        {
            if (string.Equals(injected[i].Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    private static void CopyHeaders(System.Net.Http.Headers.HttpHeadersNonValidated from, IHeaderDictionary to)
    {
        foreach (var (name, values) in from)
        {
            if (HopByHopHeaders.SkipOnResponse(name))
            {
                continue;
            }
            if (values.Count == 1)
            {
                to[name] = values.ToString();
                continue;
            }
            var array = new string[values.Count];
            var i = 0;
            foreach (var value in values)
            {
                array[i++] = value;
            }
            to[name] = array;
        }
    }
}
