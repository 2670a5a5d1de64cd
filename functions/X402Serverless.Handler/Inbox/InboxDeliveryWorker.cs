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
    ILogger<InboxDeliveryWorker> logger) : PolledWorker(signal)
{
    protected override bool Enabled => options.Value.RunWorker;

    protected override TimeSpan PollInterval => TimeSpan.FromSeconds(Math.Max(0.05, options.Value.PollSeconds));

    protected override async Task<int> RunPassAsync(CancellationToken cancellationToken)
    {
        // A few at a time, each awaited: SMTP relays throttle bursts, and the claim keeps a duplicate run harmless.
        var batch = await messages.DueAsync(time.GetUtcNow(), Batch, cancellationToken);
        foreach (var due in batch)
        {
            await delivery.RunAsync(due, cancellationToken);
        }
        return batch.Count;
    }

    protected override void PassFailed(Exception exception) => Log.PassFailed(logger, exception);

    private static partial class Log
    {
        [LoggerMessage(124, LogLevel.Error, "An inbox delivery pass failed; its messages stay queued and are retried.")]
        public static partial void PassFailed(ILogger logger, Exception exception);
    }
}
