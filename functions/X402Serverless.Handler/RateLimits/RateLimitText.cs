using System.Globalization;
using X402Serverless.Core.Links;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.RateLimits;

/// <summary>A link's effective rate limits in words, for the console: its own, else the gateway's defaults.</summary>
internal static class RateLimitText
{
    public static string Describe(LinkRateLimits? own, RateLimitOptions defaults)
    {
        var parts = new List<string>();
        Add(parts, "per payer", own?.PerPayer, RateLimitSettings.ToRule(defaults.PerPayer));
        Add(parts, "per address", own?.PerIp, RateLimitSettings.ToRule(defaults.PerIp));
        return parts.Count == 0 ? "none" : string.Join(" · ", parts);
    }

    private static void Add(List<string> parts, string who, RateLimit? own, RateLimit? fallback)
    {
        if ((own ?? fallback) is { } limit)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture,
                $"{limit.Requests} calls per {limit.PerSeconds} s {who}{(own is null ? " (gateway default)" : "")}"));
        }
    }
}
