namespace X402Serverless.Handler.Hosting;

/// <summary>Settings under "X402:OutboundWebhooks": how organisations' webhook deliveries are retried and signed.</summary>
public sealed class OutboundWebhookOptions
{
    /// <summary>Attempts before a delivery is marked failed (a redelivery gets this many again).</summary>
    public int MaxAttempts { get; set; } = 12;

    public double FirstRetrySeconds { get; set; } = 30;

    public double MaxRetrySeconds { get; set; } = 6 * 3600;

    /// <summary>How long a receiver has to answer one attempt.</summary>
    public double TimeoutSeconds { get; set; } = 10;

    /// <summary>How long a claimed delivery is owned by its worker before another may take it over (longer than one attempt).</summary>
    public double LeaseSeconds { get; set; } = 60;

    /// <summary>How often the worker looks for due deliveries when nothing wakes it.</summary>
    public double PollSeconds { get; set; } = 5;

    /// <summary>Deliver in this process (standalone, and in Azure beside the Maintenance timer's pass).</summary>
    public bool RunWorker { get; set; } = true;

    /// <summary>How long a replaced signing secret keeps signing after a rotation.</summary>
    public double SecretGraceHours { get; set; } = 24;

    /// <summary>
    /// How long an instance trusts its copy of an organisation's endpoints: events are raised on hot paths, so the
    /// store is asked at most this often per organisation (a change made in this instance applies at once).
    /// </summary>
    public double EndpointCacheSeconds { get; set; } = 30;

    /// <summary>A charge that takes a payer's credits from above this many micro-dollars to at or under it raises credits.low.</summary>
    public long CreditsLowMicros { get; set; } = 1_000_000;

    /// <summary>
    /// Days a delivered or failed delivery, and an event none of whose deliveries is left, are kept before the
    /// maintenance pass removes them; 0 keeps them for ever. At least <see cref="MinRetentionDays"/>: longer than the
    /// retries of a delivery and than any re-raise of an event (a raise after its rows are gone sends it again).
    /// </summary>
    public int RetentionDays { get; set; } = 30;

    public const int MinRetentionDays = 7;
}
