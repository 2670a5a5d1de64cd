namespace X402Serverless.Core.Settlement;

/// <summary>Capped exponential backoff with jitter (50–100% of the step), so retrying workers do not stampede a recovering node.</summary>
public sealed record RetryPolicy(TimeSpan First, TimeSpan Cap)
{
    public static RetryPolicy Default { get; } = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));

    public TimeSpan Delay(int attempt)
    {
        var step = First.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 20));
        var capped = Math.Min(step, Cap.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.5 + (Random.Shared.NextDouble() / 2)));
    }
}
