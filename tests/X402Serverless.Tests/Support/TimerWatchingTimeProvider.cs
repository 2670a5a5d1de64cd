using Microsoft.Extensions.Time.Testing;

namespace X402Serverless.Tests.Support;

/// <summary>
/// The library's <see cref="FakeTimeProvider"/> (its clock and its timers, which fire on Advance), also telling a test
/// when a timer is armed for a given time: FakeTimeProvider keeps its timers private. A background loop must have
/// armed its next wait before the test moves the clock past it, or the move is missed.
/// </summary>
internal sealed class TimerWatchingTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly Lock _gate = new();
    private readonly HashSet<WatchedTimer> _armed = [];

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new WatchedTimer(this);
        // Shown as armed only once the library's timer exists: a test that saw it armed and moved the clock before
        // then would miss it. A firing during creation (a due time of zero) is remembered and counted.
        timer.Inner = base.CreateTimer(s => { timer.Fired(); callback(s); }, state, dueTime, period);
        timer.Arm(dueTime, period);
        return timer;
    }

    /// <summary>Waits until some live timer is due at <paramref name="due"/>.</summary>
    public async Task WaitForTimerDueAtAsync(DateTimeOffset due, TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        while (!IsArmedFor(due))
        {
            await Task.Delay(10, limit.Token);
        }
    }

    private bool IsArmedFor(DateTimeOffset due)
    {
        lock (_gate)
        {
            return _armed.Any(t => t.DueAt == due);
        }
    }

    private sealed class WatchedTimer(TimerWatchingTimeProvider owner) : ITimer
    {
        public ITimer Inner { get; set; } = null!;

        private TimeSpan _period = Timeout.InfiniteTimeSpan;
        private bool _arming = true;
        private bool _firedWhileArming;

        public DateTimeOffset? DueAt { get; private set; }

        public void Arm(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._gate)
            {
                _period = period;
                var oneShot = period == Timeout.InfiniteTimeSpan || period == TimeSpan.Zero;
                DueAt = dueTime == Timeout.InfiniteTimeSpan || (_firedWhileArming && oneShot) ? null
                    : _firedWhileArming ? owner.GetUtcNow() + period
                    : owner.GetUtcNow() + dueTime;
                _arming = false;
                _firedWhileArming = false;
                if (DueAt is null)
                {
                    owner._armed.Remove(this);
                }
                else
                {
                    owner._armed.Add(this);
                }
            }
        }

        public void Fired()
        {
            lock (owner._gate)
            {
                if (_arming)
                {
                    _firedWhileArming = true;
                }
                else if (_period == Timeout.InfiniteTimeSpan || _period == TimeSpan.Zero)
                {
                    DueAt = null;
                    owner._armed.Remove(this);
                }
                else
                {
                    DueAt += _period;
                }
            }
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._gate)
            {
                _arming = true;
                owner._armed.Remove(this);
            }
            var changed = Inner.Change(dueTime, period);
            Arm(dueTime, period);
            return changed;
        }

        public void Dispose()
        {
            lock (owner._gate)
            {
                owner._armed.Remove(this);
            }
            Inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
