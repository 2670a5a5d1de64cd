using System.Net;
using System.Net.Sockets;
using X402Serverless.Core.Upstream;

namespace X402Serverless.Handler.Forwarding;

/// <summary>
/// The one connection pool for upstream calls. Redirects, cookies, proxies and decompression are off (a proxy
/// passes responses as they are); every connection resolves and checks its target against the SSRF policy itself.
/// </summary>
internal static class UpstreamClientFactory
{
    public static HttpMessageInvoker Create(UpstreamAddressPolicy policy) => new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        EnableMultipleHttp2Connections = true,
        ConnectCallback = (context, cancellationToken) => ConnectAsync(policy, context, cancellationToken),
    }, disposeHandler: true);

    private static async ValueTask<Stream> ConnectAsync(UpstreamAddressPolicy policy, SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = await policy.ResolveAsync(host, cancellationToken);
        var allowed = addresses.Where(policy.IsAllowed).ToArray();
        if (allowed.Length == 0)
        {
            throw addresses.Length == 0
                ? new SocketException((int)SocketError.HostNotFound)
                : new UpstreamAddressRefusedException(
                    $"'{host}' resolves only to refused addresses (allow a range with X402__AllowedUpstreamRanges__0=<CIDR>).");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
