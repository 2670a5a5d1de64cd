using X402Serverless.Core.Links;

namespace X402Serverless.Handler.Hosting;

/// <summary>The gateway's default rate limits as link limits, checked at start with the same ranges a link's own are.</summary>
internal static class RateLimitSettings
{
    public static RateLimit? ToRule(RateLimitSetting? setting) => setting is null ? null : new(setting.Requests, setting.PerSeconds);

    public static void Check(RateLimitOptions options, List<string> failures)
    {
        Check("PerPayer", options.PerPayer, failures);
        Check("PerIp", options.PerIp, failures);
        Check("ContractWalletChecksPerIp", options.ContractWalletChecksPerIp, failures);
        Check("CardCheckoutsPerIp", options.CardCheckoutsPerIp, failures);
        if (options.MaxBuckets < 1_000)
        {
            failures.Add($"{GatewayOptions.Section}:RateLimits:MaxBuckets must be at least 1000 (it is {options.MaxBuckets}).");
        }
    }

    private static void Check(string name, RateLimitSetting? setting, List<string> failures)
    {
        if (setting is null)
        {
            return;
        }
        if (setting.Requests is < 1 or > RateLimit.MaxRequests)
        {
            failures.Add($"{GatewayOptions.Section}:RateLimits:{name}:Requests must be from 1 to {RateLimit.MaxRequests} (it is {setting.Requests}).");
        }
        if (setting.PerSeconds is < 1 or > RateLimit.MaxPerSeconds)
        {
            failures.Add($"{GatewayOptions.Section}:RateLimits:{name}:PerSeconds must be from 1 to {RateLimit.MaxPerSeconds} (it is {setting.PerSeconds}).");
        }
    }
}
