using System.Net;
using X402Serverless.Core.Links;
using X402Serverless.Core.Upstream;

namespace X402Serverless.Handler.OutboundWebhooks;

/// <summary>
/// Where a webhook may point: an https URL on a public address, the same SSRF policy as paid links' upstreams (and
/// checked again on every connection by the guarded client). Plain http only to a loopback host the operator allows
/// (tests and local receivers): an event body on the open network must be encrypted.
/// </summary>
internal sealed class WebhookUrlCheck(UpstreamAddressPolicy policy)
{
    public const int MaxLength = 2048;

    public async Task<(string? Url, List<ValidationError> Errors)> CheckAsync(string? url, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return (null, [new("url", "missing_url", "url is required: the https URL events are posted to.")]);
        }
        url = url.Trim();
        if (url.Length > MaxLength || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            return (null, [new("url", "invalid_url", $"url must be an absolute https URL of at most {MaxLength} characters.")]);
        }
        if (!string.IsNullOrEmpty(uri.UserInfo) || !string.IsNullOrEmpty(uri.Fragment))
        {
            return (null, [new("url", "invalid_url", "url may not carry credentials or a fragment.")]);
        }
        var verdict = await policy.CheckHostAsync(uri.IdnHost, cancellationToken);
        if (verdict is not null)
        {
            return (null, [new("url", verdict.Code, verdict.Message)]);
        }
        if (uri.Scheme == Uri.UriSchemeHttp && !IsLoopback(uri))
        {
            return (null, [new("url", "insecure_url", "url must use https (plain http is accepted only for an allowed loopback receiver).")]);
        }
        return (uri.AbsoluteUri, []);
    }

    private static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
}
