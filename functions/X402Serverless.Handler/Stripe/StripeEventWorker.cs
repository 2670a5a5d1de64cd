using Microsoft.Extensions.Options;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Stripe;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Stripe;

/// <summary>Standalone queue consumer for stored Stripe events (in Azure, the StripeEventWorker function).</summary>
internal sealed partial class StripeEventWorker(
    IStripeEventStore events,
    StripeEventProcessor processor,
    StripeEventSignal signal,
    IOptions<GatewayOptions> options,
    ILogger<StripeEventWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Stripe.RunEventWorker)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                foreach (var (id, _) in await events.PendingAsync(50, stoppingToken))
                {
                    Log.Processed(logger, id, await processor.ProcessAsync(id, stoppingToken));
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                Log.Failed(logger, e);
            }
            await signal.WaitAsync(TimeSpan.FromSeconds(2), stoppingToken);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(50, LogLevel.Information, "Stripe event {EventId}: {Outcome}.")]
        public static partial void Processed(ILogger logger, string eventId, string outcome);

        [LoggerMessage(51, LogLevel.Error, "Processing Stripe events failed; they stay queued and are retried.")]
        public static partial void Failed(ILogger logger, Exception exception);
    }
}
