namespace X402Serverless.Handler.Hosting;

/// <summary>Settings under "X402:Webhooks".</summary>
public sealed class WebhookOptions
{
    /// <summary>Process stored events in this process; off in Azure, where the queue-triggered functions do.</summary>
    public bool RunWorker { get; set; } = true;
}
