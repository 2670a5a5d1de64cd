using Microsoft.Extensions.Options;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.OutboundWebhooks;

/// <summary>
/// Runs due deliveries: woken when an event is stored, otherwise polling for retries that came due and for claims whose
/// worker died (their lease ran out). The store is the queue, so nothing is lost if the process stops. The Maintenance
/// timer function runs the same pass in Azure.
/// </summary>
internal sealed partial class WebhookDeliveryWorker(
    IWebhookEndpointStore store,
    WebhookDispatch dispatch,
    WebhookDeliverySignal signal,
    TimeProvider time,
    IOptions<OutboundWebhookOptions> options,
    ILogger<WebhookDeliveryWorker> logger) : PolledWorker(signal)
{
    /// <summary>One pass: up to a batch of due deliveries, at most a few in flight (one slow receiver does not hold up the rest).</summary>
    public async Task<int> RunDueAsync(CancellationToken cancellationToken)
    {
        var batch = await store.DueAsync(time.GetUtcNow(), Batch, cancellationToken);
        await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken },
            async (due, ct) => await dispatch.RunAsync(due, ct));
        return batch.Count;
    }

    protected override bool Enabled => options.Value.RunWorker;

    protected override TimeSpan PollInterval => TimeSpan.FromSeconds(Math.Max(0.02, options.Value.PollSeconds));

    protected override Task<int> RunPassAsync(CancellationToken cancellationToken) => RunDueAsync(cancellationToken);

    protected override void PassFailed(Exception exception) => Log.PassFailed(logger, exception);

    private static partial class Log
    {
        [LoggerMessage(144, LogLevel.Error, "A webhook delivery pass failed; its deliveries stay pending and are retried.")]
        public static partial void PassFailed(ILogger logger, Exception exception);
    }
}
