using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Access;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Facilitator;

/// <summary>Who used the facilitator service: the key's organisation and id ("anonymous" when keys are not required).</summary>
internal sealed record FacilitatorCaller(string OrganisationId, string KeyId);

/// <summary>
/// Admits a caller to /facilitator/verify and /settle, which spend the operator's gas: only keys of the operator's
/// organisation or of one listed in Settlement:FacilitatorOrganisations, each within its own rate.
/// </summary>
internal sealed class FacilitatorGate : IDisposable
{
    private readonly IAccessStore _access;
    private readonly SettlementOptions _settings;
    private readonly PartitionedRateLimiter<string> _limiter;

    public FacilitatorGate(IAccessStore access, IOptions<SettlementOptions> options)
    {
        _access = access;
        _settings = options.Value;
        var perMinute = Math.Max(1, _settings.FacilitatorRequestsPerMinute);
        _limiter = PartitionedRateLimiter.Create<string, string>(partition => RateLimitPartition.GetTokenBucketLimiter(partition, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = perMinute,
            TokensPerPeriod = perMinute,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    /// <summary>The admitted caller, or the problem refusing it (401, 403 facilitator_not_allowed, 429 rate_limited).</summary>
    public async Task<(FacilitatorCaller? Caller, IResult? Refusal)> AdmitAsync(HttpContext http)
    {
        FacilitatorCaller caller;
        if (_settings.FacilitatorRequiresKey)
        {
            var header = http.Request.Headers.Authorization.ToString();
            var key = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : "";
            if (key.Length == 0 || await _access.FindByKeyHashAsync(ManagementKeys.Hash(key), http.RequestAborted) is not { } found)
            {
                http.Response.Headers.WWWAuthenticate = "Bearer";
                return (null, Problem.Of(StatusCodes.Status401Unauthorized, "unauthorized", "This facilitator settles with its operator's gas: send 'Authorization: Bearer <key>'."));
            }
            if (!found.Organisation.IsOperator && !_settings.FacilitatorOrganisations.Contains(found.Organisation.Id, StringComparer.Ordinal))
            {
                return (null, Problem.Of(StatusCodes.Status403Forbidden, "facilitator_not_allowed",
                    "This organisation's keys may not use the facilitator service.", "The operator pays its gas; ask the operator to allow your organisation."));
            }
            if (!found.Key.Facilitator)
            {
                // A role (even admin) does not imply spending gas: a leaked read-only or developer key cannot settle.
                return (null, Problem.Of(StatusCodes.Status403Forbidden, "facilitator_permission_required",
                    "This key has no facilitator permission.", "Create a key with \"facilitator\": true (POST /api/keys) for the facilitator service."));
            }
            caller = new FacilitatorCaller(found.Organisation.Id, found.Key.Id);
        }
        else
        {
            caller = new FacilitatorCaller("anonymous", "anonymous");
        }

        // Open to anyone (keys not required), the rate is per caller address instead.
        var partition = _settings.FacilitatorRequiresKey ? caller.KeyId : "ip:" + http.Connection.RemoteIpAddress;
        using var lease = _limiter.AttemptAcquire(partition);
        if (!lease.IsAcquired)
        {
            var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 60;
            http.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return (null, Problem.Of(StatusCodes.Status429TooManyRequests, "rate_limited",
                "Too many facilitator requests for this key.", $"At most {_settings.FacilitatorRequestsPerMinute} a minute; retry after {retryAfter} s."));
        }
        return (caller, null);
    }

    public void Dispose() => _limiter.Dispose();
}
