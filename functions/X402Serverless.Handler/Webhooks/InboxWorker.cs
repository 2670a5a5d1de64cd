using Microsoft.Extensions.Options;
using X402Serverless.Core.Webhooks;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Webhooks;

/// <summary>
/// Standalone queue consumer for every inbox (Stripe, KYC); in Azure, the StripeEventWorker and KycEventWorker
/// functions. An event that fails stays pending and is retried on the next pass.
/// </summary>
internal sealed partial class InboxWorker(
    IEnumerable<InboxProcessor> processors,
    InboxSignal signal,
    IOptions<WebhookOptions> options,
    ILogger<InboxWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.RunWorker)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            foreach (var processor in processors)
            {
                try
                {
                    foreach (var (id, _) in await processor.Inbox.PendingAsync(50, stoppingToken))
                    {
                        Log.Processed(logger, processor.Source, id, await processor.ProcessAsync(id, stoppingToken));
                    }
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    Log.Failed(logger, processor.Source, e);
                }
            }
            await signal.WaitAsync(TimeSpan.FromSeconds(2), stoppingToken);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(50, LogLevel.Information, "{Source} event {EventId}: {Outcome}.")]
        public static partial void Processed(ILogger logger, string source, string eventId, string outcome);

        [LoggerMessage(51, LogLevel.Error, "Processing {Source} events failed; they stay queued and are retried.")]
        public static partial void Failed(ILogger logger, string source, Exception exception);
    }
}
