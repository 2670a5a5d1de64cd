using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Extensions.Time.Testing;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Settlement;
using X402Serverless.Sqlite;
using X402Serverless.Tests.Stores;

namespace X402Serverless.Tests.Settlement;

/// <summary>The settlement worker's loop never runs one job twice at once, even when its lease runs out mid-run.</summary>
public sealed class DueJobRunnerTests
{
    private static readonly DateTimeOffset T0 = PaymentStoreContract.T0;

    [Fact]
    public async Task A_job_still_running_when_its_lease_runs_out_is_claimed_again_but_not_started_twice()
    {
        var time = new FakeTimeProvider(T0.AddSeconds(1)); // the jobs are due from T0
        var database = new SqliteDatabase(Path.Combine(Path.GetTempPath(), "x402-due-" + Guid.NewGuid().ToString("N"), "x402.db"));
        var claims = new ConcurrentQueue<int>(); // how many jobs each finished claim returned
        var store = ClaimsWatched.Wrap(new SqlitePaymentStore(database), claims);
        var slow = await PendingAsync(store, T0);
        var quick = await PendingAsync(store, T0.AddMilliseconds(500)); // due after the slow one: claims return the slow one first

        var runs = new ConcurrentDictionary<string, int>();
        var slowGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var quickGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var lease = TimeSpan.FromMinutes(1);
        var loop = new DueJobRunner(store, time).RunAsync(2, lease, job =>
        {
            runs.AddOrUpdate(job.Id, 1, (_, n) => n + 1);
            return job.Id == slow ? slowGate.Task : quickGate.Task;
        }, default);

        await Until(() => runs.Count == 2 && !claims.IsEmpty, () => $"runs {runs.Count}, claims {claims.Count}");
        Assert.Equal(2, claims.First());
        time.Advance(lease * 2); // the slow job's lease runs out while it still runs
        quickGate.SetResult();
        // The quick job ended and freed a slot: the next claim hands the slow job back, its lease having run out.
        await Until(() => claims.Count >= 2, () => $"claims {claims.Count}");
        Assert.Equal(1, claims.ElementAt(1));
        slowGate.SetResult();

        await loop;
        Assert.Equal(1, runs[slow]); // skipped when handed back, not started a second time beside itself
    }

    private static async Task<string> PendingAsync(IPaymentStore store, DateTimeOffset dueAt)
    {
        var payment = PaymentStoreContract.Payment(payer: "0x" + Guid.NewGuid().ToString("N"));
        Assert.True(await store.TryReserveAsync(payment, default));
        await store.AdvanceAsync(payment.Id, PaymentStatus.Pending, dueAt, default);
        return payment.Id;
    }

    private static async Task Until(Func<bool> condition, Func<string> state)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not within 30 s: {state()}");
            await Task.Delay(10);
        }
    }

    /// <summary>The store as it is, recording how many jobs each ClaimDueAsync returned: the loop's claims are what the test watches.</summary>
    public class ClaimsWatched : DispatchProxy
    {
        private IPaymentStore _inner = null!;
        private ConcurrentQueue<int> _claims = null!;

        public static IPaymentStore Wrap(IPaymentStore inner, ConcurrentQueue<int> claims)
        {
            var proxy = Create<IPaymentStore, ClaimsWatched>();
            var self = (ClaimsWatched)(object)proxy;
            self._inner = inner;
            self._claims = claims;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            var result = targetMethod!.Invoke(_inner, args);
            if (targetMethod.Name == nameof(IPaymentStore.ClaimDueAsync))
            {
                return Watch((Task<IReadOnlyList<PaymentRecord>>)result!);
            }
            return result;
        }

        private async Task<IReadOnlyList<PaymentRecord>> Watch(Task<IReadOnlyList<PaymentRecord>> claim)
        {
            var jobs = await claim;
            _claims.Enqueue(jobs.Count);
            return jobs;
        }
    }
}
