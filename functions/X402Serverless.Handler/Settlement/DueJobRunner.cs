using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;

namespace X402Serverless.Handler.Settlement;

/// <summary>
/// Runs due settlement jobs with up to a number of slots in flight, claiming more as they finish rather than waiting
/// for a whole batch's slowest. A job whose lease ran out while it still runs here may be claimed again by this loop;
/// it is skipped, never started twice: its first run records the outcome.
/// </summary>
internal sealed class DueJobRunner(IPaymentStore payments, TimeProvider time)
{
    /// <summary>Runs what is due until none is; returns how many jobs it started.</summary>
    public async Task<int> RunAsync(int slots, TimeSpan lease, Func<PaymentRecord, Task> run, CancellationToken cancellationToken)
    {
        var running = new Dictionary<Task, string>();
        var inFlight = new HashSet<string>(StringComparer.Ordinal);
        var started = 0;
        var due = true;
        while (true)
        {
            // Claims wait for a quarter of the slots to free up: each claim is a store write, not one per finished job.
            var free = slots - running.Count;
            if (due && (running.Count == 0 || free >= Math.Max(1, slots / 4)))
            {
                var now = time.GetUtcNow();
                IReadOnlyList<PaymentRecord> jobs;
                try
                {
                    jobs = await payments.ClaimDueAsync(now, now + lease, free, cancellationToken);
                }
                catch
                {
                    // The pass fails, but not before the jobs it started end: a retry never has more than its slots in flight.
                    await Task.WhenAll(running.Keys).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    throw;
                }
                due = jobs.Count == free;
                foreach (var job in jobs)
                {
                    if (inFlight.Add(job.Id))
                    {
                        running.Add(run(job), job.Id);
                        started++;
                    }
                }
            }
            if (running.Count == 0)
            {
                return started;
            }
            var done = await Task.WhenAny(running.Keys);
            inFlight.Remove(running[done]);
            running.Remove(done);
        }
    }
}
