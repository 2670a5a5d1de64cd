using System.Net;

namespace X402Serverless.Handler.Hosting;

/// <summary>
/// The caller's address, as sign-up's rate limit takes it: behind Front Door (FrontDoorId set, so
/// <see cref="FrontDoorGuard"/> admits only its requests) Front Door's X-Azure-ClientIP, which it overwrites; anywhere
/// else the connection's own (a client's X-Azure-ClientIP is then ignored: it could name anyone).
/// </summary>
internal static class ClientAddress
{
    public static string Of(HttpContext http, bool behindFrontDoor) =>
        behindFrontDoor && IPAddress.TryParse(http.Request.Headers["X-Azure-ClientIP"].ToString(), out var client)
            ? client.ToString()
            : http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
}
