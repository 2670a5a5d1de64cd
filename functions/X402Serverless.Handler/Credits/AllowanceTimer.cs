using Microsoft.Extensions.Options;
using X402Serverless.Core.Credits;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Credits;

/// <summary>
/// Standalone stand-in for the Functions timer (0 0 * * * *): grants the current month at start (so a run missed
/// while the process was down still happens, once) and then at the start of every UTC hour, on TimeProvider. Each run
/// grants once per member and month, so the hourly runs grant the month at 00:00 on its first, and within the hour a
/// member added since or one a failed run left out.
/// </summary>
internal sealed partial class AllowanceTimer(AllowanceReset reset, TimeProvider time, IOptions<CreditsOptions> options, ILogger<AllowanceTimer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.RunAllowanceTimer)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            await RunOnceAsync(stoppingToken);
            var next = Periods.NextHourStart(time.GetUtcNow());
            try
            {
                await Task.Delay(Clamp(next - time.GetUtcNow()), time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var period = Periods.Month(time.GetUtcNow());
        try
        {
            var granted = await reset.RunAsync(period, cancellationToken);
            Log.Ran(logger, period, granted);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.Failed(logger, period, e);
        }
    }

    // Never wait less than a second (the clock at the boundary).
    private static TimeSpan Clamp(TimeSpan wait) => wait < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : wait;

    private static partial class Log
    {
        [LoggerMessage(40, LogLevel.Information, "Allowance reset for {Period}: {Granted} grants.")]
        public static partial void Ran(ILogger logger, string period, int granted);

        [LoggerMessage(41, LogLevel.Error, "Allowance reset for {Period} failed for some members; the next hourly run grants them once.")]
        public static partial void Failed(ILogger logger, string period, Exception exception);
    }
}
