using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Signup;

/// <summary>
/// ASP.NET Core's rate limiter for /api/signup: a fixed window per client address. Behind Front Door (FrontDoorId set,
/// so <see cref="FrontDoorGuard"/> admits only its requests) the address is Front Door's X-Azure-ClientIP, which it
/// overwrites; anywhere else the connection's own; IPv6 by its /64 (<see cref="ClientAddress"/>). Refusals are 429
/// rate_limited problems with Retry-After.
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
        RateLimitPartition.GetFixedWindowLimiter(ClientAddress.Partition(httpContext, _behindFrontDoor), _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = signup.Value.RequestsPerMinute,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        });
}
