using Microsoft.Extensions.Options;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Inbox;

/// <summary>
/// Runs due deliveries in this process: woken when a message is queued, otherwise polling for retries that came
/// due and for claims whose worker died (their lease ran out). The store is the queue: nothing is lost if it stops.
/// </summary>
internal sealed partial class InboxDeliveryWorker(
    IInboxMessageStore messages,
    InboxDelivery delivery,
    InboxDeliverySignal signal,
    TimeProvider time,
    IOptions<InboxOptions> options,
    ILogger<InboxDeliveryWorker> logger) : BackgroundService
{
    private const int Batch = 20;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.RunWorker)
        {
            return;
        }
        var poll = TimeSpan.FromSeconds(Math.Max(0.05, options.Value.PollSeconds));
        while (!stoppingToken.IsCancellationRequested)
        {
            var more = false;
            try
            {
                // A few at a time, each awaited: SMTP relays throttle bursts, and the claim keeps a duplicate run harmless.
                var batch = await messages.DueAsync(time.GetUtcNow(), Batch, stoppingToken);
                foreach (var due in batch)
                {
                    await delivery.RunAsync(due, stoppingToken);
                }
                more = batch.Count == Batch;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                Log.PassFailed(logger, e);
            }
            if (!more)
            {
                await signal.WaitAsync(poll, stoppingToken);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(124, LogLevel.Error, "An inbox delivery pass failed; its messages stay queued and are retried.")]
        public static partial void PassFailed(ILogger logger, Exception exception);
    }
}
