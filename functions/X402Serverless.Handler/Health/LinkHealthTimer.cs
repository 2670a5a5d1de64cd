using Microsoft.Extensions.Options;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Health;

/// <summary>
/// Standalone stand-in for the Maintenance timer function's probe step: a pass at start, then one every interval, on
/// TimeProvider. A failed pass is logged and the next one runs on time.
/// </summary>
internal sealed partial class LinkHealthTimer(LinkHealthProber prober, TimeProvider time, IOptions<HealthOptions> options, ILogger<LinkHealthTimer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.RunProber)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await prober.RunAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                Log.PassFailed(logger, e);
            }
            try
            {
                await Task.Delay(prober.Interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(133, LogLevel.Error, "A health probe pass failed; the next runs after the interval.")]
        public static partial void PassFailed(ILogger logger, Exception exception);
    }
}
