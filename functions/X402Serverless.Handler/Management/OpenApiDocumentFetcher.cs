using System.Text;
using X402Serverless.Core.Links;
using X402Serverless.Core.Upstream;
using X402Serverless.Handler.Forwarding;

namespace X402Serverless.Handler.Management;

/// <summary>
/// Fetches an import's documentUrl as the gateway reaches upstreams: the same address policy (checked before the
/// request and again on the connection, so DNS rebinding gains nothing), no redirects, a size bound and a timeout.
/// </summary>
internal sealed class OpenApiDocumentFetcher(UpstreamAddressPolicy policy, HttpMessageInvoker upstreamClient)
{
    /// <summary>The largest document taken, pasted or fetched.</summary>
    public const int MaxDocumentBytes = 1024 * 1024;

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public async Task<(string? Text, ValidationError? Error)> FetchAsync(string url, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || !string.IsNullOrEmpty(uri.UserInfo))
        {
            return (null, new("documentUrl", "invalid_document_url", "documentUrl must be an absolute http or https URL without credentials."));
        }
        if (await policy.CheckHostAsync(uri.IdnHost, cancellationToken) is { } verdict)
        {
            return (null, new("documentUrl", verdict.Code, verdict.Message.Replace("upstream", "document", StringComparison.OrdinalIgnoreCase)));
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.Accept.ParseAdd("application/json, application/yaml, text/yaml, */*;q=0.5");
            using var response = await upstreamClient.SendAsync(request, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                return (null, new("documentUrl", "document_unreachable", $"documentUrl answered {(int)response.StatusCode}; it must answer 200 with the document (redirects are not followed)."));
            }
            if (response.Content.Headers.ContentLength > MaxDocumentBytes)
            {
                return (null, TooLarge());
            }
            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
            var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await body.ReadAsync(chunk, timeout.Token)) > 0)
            {
                if (buffer.Length + read > MaxDocumentBytes)
                {
                    return (null, TooLarge());
                }
                buffer.Write(chunk, 0, read);
            }
            return (Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length), null);
        }
        catch (HttpRequestException e) when (e.InnerException is UpstreamAddressRefusedException refused)
        {
            return (null, new("documentUrl", "upstream_address_refused", refused.Message));
        }
        catch (HttpRequestException)
        {
            return (null, new("documentUrl", "document_unreachable", "documentUrl could not be fetched (connection failed)."));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, new("documentUrl", "document_unreachable", $"documentUrl did not answer within {Timeout.TotalSeconds:0} seconds."));
        }
    }

    public static ValidationError TooLarge() =>
        new("document", "document_too_large", $"The document is larger than {MaxDocumentBytes / 1024} KB.");
}
