namespace X402Serverless.Core.Inbox;

/// <summary>When a failed delivery is tried again: doubling from a base, capped, a bounded number of times.</summary>
public sealed record DeliveryBackoff(TimeSpan First, TimeSpan Max, int MaxAttempts)
{
    public TimeSpan After(int attempts) =>
        TimeSpan.FromTicks(Math.Min(Max.Ticks, First.Ticks * (1L << Math.Clamp(attempts - 1, 0, 30))));
}
