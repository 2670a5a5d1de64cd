using Microsoft.Extensions.Options;
using X402Serverless.Core.Credits;
using X402Serverless.Core.Facilitation;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Settlement;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Settlement;

/// <summary>
/// The standalone dispatcher of the durable settlement jobs: leases due Pending jobs, settles a bounded number of them
/// side by side, and recovers payments whose request died with its process. Errors are logged and retried, never fatal.
/// </summary>
internal sealed partial class SettlementWorker(
    IPaymentStore payments,
    SettlementProcessor processor,
    MaintenancePass maintenance,
    SettlementSignal signal,
    TimeProvider time,
    IOptions<SettlementOptions> options,
    ILogger<SettlementWorker> logger) : BackgroundService
{
    private readonly SettlementOptions _settings = options.Value;
    private DateTimeOffset _lastGasAlert = DateTimeOffset.MinValue;
    private DateTimeOffset _lastReconcile = DateTimeOffset.MinValue;
    private readonly DateTimeOffset _startedAt = time.GetUtcNow();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_settings.RunWorker)
        {
            return;
        }
        var interval = TimeSpan.FromMilliseconds(_settings.WorkerIntervalMilliseconds);
        // The embedded store has one worker: leases left by a previous process that died are void.
        await payments.ReleaseLeasesAsync(stoppingToken);
        // Likewise credit holds placed before this process started: their requests died with it. One that cannot be
        // released now is left to the stale-hold sweep; it must not stop the worker.
        try
        {
            await maintenance.ReleaseOrphanedHoldsAsync(_startedAt, stoppingToken);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            Log.OrphanedHoldsFailed(logger, e);
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await maintenance.RecoverStaleAsync(stoppingToken);
                if (time.GetUtcNow() - _lastReconcile > TimeSpan.FromSeconds(30))
                {
                    _lastReconcile = time.GetUtcNow();
                    await maintenance.ReconcileAsync(stoppingToken);
                }
                while (await RunDueAsync(stoppingToken) > 0)
                {
                    // keep draining while there is work
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                Log.PassFailed(logger, e);
            }
            await signal.WaitAsync(interval, stoppingToken);
        }
    }

    /// <summary>Settles due jobs, up to WorkerBatchSize in flight, each under its lease and never twice at once.</summary>
    public Task<int> RunDueAsync(CancellationToken cancellationToken) =>
        new DueJobRunner(payments, time).RunAsync(
            _settings.WorkerBatchSize,
            TimeSpan.FromSeconds(_settings.ReceiptTimeoutSeconds + 30),
            job => RunOneAsync(job, cancellationToken),
            cancellationToken);

    private async Task RunOneAsync(PaymentRecord job, CancellationToken cancellationToken)
    {
        try
        {
            var result = await processor.RunAsync(job, inline: false, cancellationToken);
            // Its webhook event, if any, was stored before the outcome was (WebhookSettlementObserver).
            Report(job, result);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.JobCrashed(logger, job.Id, e);
        }
    }

    private void Report(PaymentRecord job, SettlementResult result)
    {
        switch (result.Kind)
        {
            case SettlementOutcomeKind.Settled:
                Log.Settled(logger, job.Id, result.Transaction ?? "");
                break;
            case SettlementOutcomeKind.Failed:
                Log.Failed(logger, job.Id, result.Reason ?? "", job.Mode);
                break;
            case SettlementOutcomeKind.Expired:
                Log.Expired(logger, job.Id);
                break;
            default:
                Log.Retrying(logger, job.Id, result.Reason ?? "", job.Attempts + 1);
                if (result.Reason == BuiltInFacilitator.GasWalletUnderfunded && time.GetUtcNow() - _lastGasAlert > TimeSpan.FromMinutes(1))
                {
                    _lastGasAlert = time.GetUtcNow();
                    Log.GasWalletEmpty(logger);
                }
                break;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(20, LogLevel.Information, "Payment {PaymentId} settled in {Transaction}.")]
        public static partial void Settled(ILogger logger, string paymentId, string transaction);

        [LoggerMessage(21, LogLevel.Warning, "Payment {PaymentId} ({Mode}) failed to settle: {Reason}.")]
        public static partial void Failed(ILogger logger, string paymentId, string reason, string mode);

        [LoggerMessage(22, LogLevel.Warning, "Payment {PaymentId} expired before it could be settled.")]
        public static partial void Expired(ILogger logger, string paymentId);

        [LoggerMessage(23, LogLevel.Information, "Payment {PaymentId} not settled yet ({Reason}); attempt {Attempt} scheduled.")]
        public static partial void Retrying(ILogger logger, string paymentId, string reason, int attempt);

        [LoggerMessage(24, LogLevel.Critical, "ALERT: the settlement gas wallet cannot pay for gas. Fund it; settlements wait and resume on their own.")]
        public static partial void GasWalletEmpty(ILogger logger);

        [LoggerMessage(25, LogLevel.Error, "Settlement pass failed; retrying at the next interval.")]
        public static partial void PassFailed(ILogger logger, Exception exception);

        [LoggerMessage(26, LogLevel.Error, "Settlement job {PaymentId} threw; it stays leased and will be retried.")]
        public static partial void JobCrashed(ILogger logger, string paymentId, Exception exception);

        [LoggerMessage(30, LogLevel.Error, "Releasing credit holds left by the previous process failed in part; the stale-hold sweep returns the rest.")]
        public static partial void OrphanedHoldsFailed(ILogger logger, Exception exception);
    }
}
