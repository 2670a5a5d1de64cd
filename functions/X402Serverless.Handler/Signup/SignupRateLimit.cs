using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Signup;

/// <summary>
/// ASP.NET Core's rate limiter for /api/signup: a fixed window per client address. Behind Front Door (FrontDoorId set,
/// so <see cref="FrontDoorGuard"/> admits only its requests) the address is Front Door's X-Azure-ClientIP, which it
/// overwrites; anywhere else the connection's own. Refusals are 429 rate_limited problems with Retry-After.
/// </summary>
internal sealed class SignupRateLimit(IOptions<SignupOptions> signup, IOptions<GatewayOptions> gateway) : IRateLimiterPolicy<string>
{
    public const string Name = "signup";

    private readonly bool _behindFrontDoor = !string.IsNullOrWhiteSpace(gateway.Value.FrontDoorId);

    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected { get; } = async (context, cancellationToken) =>
    {
        var http = context.HttpContext;
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 60;
        http.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        await Problem.Of(StatusCodes.Status429TooManyRequests, "rate_limited", "Too many sign-up requests from this address.",
            $"Try again in {retryAfter} seconds.").ExecuteAsync(http);
    };

    public RateLimitPartition<string> GetPartition(HttpContext httpContext) =>
        RateLimitPartition.GetFixedWindowLimiter(ClientAddress(httpContext), _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = signup.Value.RequestsPerMinute,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        });

    private string ClientAddress(HttpContext http) =>
        Partition(_behindFrontDoor && IPAddress.TryParse(http.Request.Headers["X-Azure-ClientIP"].ToString(), out var client)
            ? client
            : http.Connection.RemoteIpAddress);

    /// <summary>
    /// An IPv4 address is its own partition; an IPv6 one is its /64, which one subscriber holds whole (an address per
    /// request from it would otherwise be a fresh allowance per request).
    /// </summary>
    internal static string Partition(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }
        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }
}
