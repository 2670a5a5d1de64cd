using System.Net;

namespace X402Serverless.Handler.Hosting;

/// <summary>
/// Whether the gateway runs under the Azure Functions host, which starts it with FUNCTIONS_CUSTOMHANDLER_PORT set
/// (read through configuration, so tests set it like any other setting) and invokes its functions from loopback.
/// </summary>
internal static class FunctionsHost
{
    public const string PortSetting = "FUNCTIONS_CUSTOMHANDLER_PORT";

    /// <summary>The invocation routes the host POSTs to (one per non-HTTP function); never served to the public.</summary>
    public static readonly string[] InvocationRoutes = ["/SettlementJob", "/Maintenance", "/AllowanceReset", "/StripeEventWorker", "/KycEventWorker", "/InboxDelivery"];

    public static string? Port(IConfiguration configuration) =>
        configuration[PortSetting] is { Length: > 0 } port ? port : null;

    public static bool IsInvocationRoute(PathString path) =>
        InvocationRoutes.Any(r => path.Equals(r, StringComparison.OrdinalIgnoreCase));

    public static bool IsLoopback(IPAddress? remote) =>
        remote is not null && IPAddress.IsLoopback(remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote);

    /// <summary>A Host header naming this machine (localhost, 127.0.0.0/8, ::1).</summary>
    public static bool IsLoopbackHost(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IsLoopback(address));
}
