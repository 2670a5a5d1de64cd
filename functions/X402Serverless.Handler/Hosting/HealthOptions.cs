namespace X402Serverless.Handler.Hosting;

/// <summary>Settings under "X402:Health": the unpaid health probes of listed links that ask for one.</summary>
public sealed class HealthOptions
{
    /// <summary>Run the probe timer in this process (standalone). In Azure the Maintenance timer function runs the probes.</summary>
    public bool RunProber { get; set; } = true;

    /// <summary>How often each probed link is probed.</summary>
    public int IntervalMinutes { get; set; } = 5;

    /// <summary>How long one probe waits for the upstream's response headers.</summary>
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>Probes in flight at once.</summary>
    public int Concurrency { get; set; } = 8;
}
