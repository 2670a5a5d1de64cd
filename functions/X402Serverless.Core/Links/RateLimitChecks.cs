namespace X402Serverless.Core.Links;

/// <summary>The checks on a link's rate limits, each problem with a stable code and the field it is about.</summary>
internal static class RateLimitChecks
{
    public static void Check(RateLimitDraft limits, List<ValidationError> errors)
    {
        Check("rateLimit.perPayer", limits.PerPayer, errors);
        Check("rateLimit.perIp", limits.PerIp, errors);
    }

    private static void Check(string field, RateLimitRuleDraft? rule, List<ValidationError> errors)
    {
        if (rule is null)
        {
            return;
        }
        if (rule.Requests is not (>= 1 and <= RateLimit.MaxRequests))
        {
            errors.Add(new(field + ".requests", "invalid_rate_limit", $"{field}.requests is a whole number from 1 to {RateLimit.MaxRequests}."));
        }
        if (rule.PerSeconds is not (>= 1 and <= RateLimit.MaxPerSeconds))
        {
            errors.Add(new(field + ".perSeconds", "invalid_rate_limit", $"{field}.perSeconds is a whole number of seconds from 1 to {RateLimit.MaxPerSeconds} (a day)."));
        }
    }
}
