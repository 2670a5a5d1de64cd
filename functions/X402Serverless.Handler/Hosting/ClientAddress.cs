using System.Net;
using System.Net.Sockets;

namespace X402Serverless.Handler.Hosting;

/// <summary>
/// Who a per-client limit counts (sign-up's and the paid links'): behind Front Door (FrontDoorId set, so
/// <see cref="FrontDoorGuard"/> admits only its requests) Front Door's X-Azure-ClientIP, which it overwrites; anywhere
/// else the connection's own (a client's X-Azure-ClientIP is then ignored: it could name anyone).
/// </summary>
internal static class ClientAddress
{
    /// <summary>The caller's partition key: see <see cref="Partition(IPAddress?)"/>.</summary>
    public static string Partition(HttpContext http, bool behindFrontDoor) => Partition(Of(http, behindFrontDoor));

    /// <summary>The caller's address itself (the audit log records it whole), by the same rule.</summary>
    public static IPAddress? Of(HttpContext http, bool behindFrontDoor) =>
        behindFrontDoor && IPAddress.TryParse(http.Request.Headers["X-Azure-ClientIP"].ToString(), out var client)
            ? client
            : http.Connection.RemoteIpAddress;

    /// <summary>
    /// An IPv4 address is its own partition (a mapped one too); an IPv6 one is its /64, which one subscriber holds whole
    /// (an address per request from it would otherwise be a fresh allowance per request).
    /// </summary>
    public static string Partition(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }
}
