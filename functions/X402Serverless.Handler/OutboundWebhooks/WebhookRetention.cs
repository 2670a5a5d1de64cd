using Microsoft.Extensions.Options;
using X402Serverless.Core.OutboundWebhooks;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.OutboundWebhooks;

/// <summary>
/// Removes deliveries that ended (delivered or failed) more than <see cref="OutboundWebhookOptions.RetentionDays"/> ago,
/// and events as old none of whose deliveries is left, so the stores do not grow for ever. Run by the maintenance pass,
/// at most once a minute per instance, in bounded batches.
/// </summary>
internal sealed partial class WebhookRetention(
    IWebhookEndpointStore store,
    TimeProvider time,
    IOptions<OutboundWebhookOptions> options,
    ILogger<WebhookRetention> logger)
{
    public const int Batch = 500;

    /// <summary>Batches per run: a backlog (the first run after an upgrade) is worked off over several passes, not in one long one.</summary>
    public const int MaxBatches = 10;

    private static readonly TimeSpan Every = TimeSpan.FromMinutes(1);
    private long _lastRunTicks = DateTimeOffset.MinValue.UtcTicks;

    /// <summary>Runs when a minute has passed since the last run here; returns the rows removed.</summary>
    public async Task<WebhookPurge> RunAsync(CancellationToken cancellationToken)
    {
        var days = options.Value.RetentionDays;
        var now = time.GetUtcNow();
        var last = Interlocked.Read(ref _lastRunTicks);
        if (days <= 0 || now.UtcTicks - last < Every.Ticks || Interlocked.CompareExchange(ref _lastRunTicks, now.UtcTicks, last) != last)
        {
            return new WebhookPurge(0, 0);
        }
        return await PurgeAsync(now - TimeSpan.FromDays(days), cancellationToken);
    }

    /// <summary>Removes what ended before <paramref name="before"/>, batch after batch while batches come back full.</summary>
    public async Task<WebhookPurge> PurgeAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        var (deliveries, events) = (0, 0);
        for (var i = 0; i < MaxBatches; i++)
        {
            var purged = await store.PurgeAsync(before, Batch, cancellationToken);
            deliveries += purged.Deliveries;
            events += purged.Events;
            if (purged.Deliveries < Batch && purged.Events < Batch)
            {
                break;
            }
        }
        if (deliveries + events > 0)
        {
            Log.Purged(logger, deliveries, events, before);
        }
        return new WebhookPurge(deliveries, events);
    }

    private static partial class Log
    {
        [LoggerMessage(146, LogLevel.Information, "Webhook retention removed {Deliveries} deliveries and {Events} events that ended before {Before}.")]
        public static partial void Purged(ILogger logger, int deliveries, int events, DateTimeOffset before);
    }
}
