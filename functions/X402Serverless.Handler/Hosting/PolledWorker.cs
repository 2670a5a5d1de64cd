using X402Serverless.Handler.Settlement;

namespace X402Serverless.Handler.Hosting;

/// <summary>
/// The loop of a worker whose store is its queue (inbox deliveries, webhook deliveries): run a pass over what is due;
/// when it took less than a full batch, wait until something is queued (the signal) or the poll interval passes. A
/// failed pass is logged and the loop goes on, since the due rows stay in the store and are taken up again.
/// </summary>
internal abstract class PolledWorker(SettlementSignal signal) : BackgroundService
{
    /// <summary>How many due rows one pass takes at most; a full batch means more may wait, so the next pass runs at once.</summary>
    protected const int Batch = 20;

    /// <summary>False: this process does not run the worker (another one does, e.g. a queue-triggered function).</summary>
    protected abstract bool Enabled { get; }

    protected abstract TimeSpan PollInterval { get; }

    /// <summary>One pass over the due rows; returns how many it took.</summary>
    protected abstract Task<int> RunPassAsync(CancellationToken cancellationToken);

    protected abstract void PassFailed(Exception exception);

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
        {
            return;
        }
        var poll = PollInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            var more = false;
            try
            {
                more = await RunPassAsync(stoppingToken) == Batch;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                PassFailed(e);
            }
            if (!more)
            {
                await signal.WaitAsync(poll, stoppingToken);
            }
        }
    }
}
