namespace SecretsCache.Tests.Fakes;

/// <summary>
/// A clock that moves only when told. Timers (and so Task.Delay, CancelAfter and CancellationTokenSource timeouts on this
/// provider) fire synchronously inside <see cref="Advance"/>, in due order.
/// </summary>
public sealed class FakeTimeProvider : TimeProvider
{
    private readonly object _gate = new();
    private readonly List<FakeTimer> _timers = [];
    private DateTimeOffset _now;
    private long _timestamp;

    public FakeTimeProvider(DateTimeOffset? start = null)
    {
        _now = start ?? new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    public override long GetTimestamp()
    {
        lock (_gate)
        {
            return _timestamp;
        }
    }

    public int ActiveTimers
    {
        get
        {
            lock (_gate)
            {
                return _timers.Count(t => t.DueAt is not null);
            }
        }
    }

    /// <summary>Timers that will fire within <paramref name="horizon"/> from now (inclusive): who is waiting on the clock soon.</summary>
    public int TimersDueWithin(TimeSpan horizon)
    {
        lock (_gate)
        {
            var limit = _timestamp + horizon.Ticks;
            return _timers.Count(t => t.DueAt <= limit);
        }
    }

    /// <summary>How long until the earliest timer fires; null when none is active.</summary>
    public TimeSpan? NextTimerDue
    {
        get
        {
            lock (_gate)
            {
                var next = _timers.Where(t => t.DueAt is not null).Select(t => t.DueAt!.Value).DefaultIfEmpty(long.MaxValue).Min();
                return next == long.MaxValue ? null : TimeSpan.FromTicks(next - _timestamp);
            }
        }
    }

    /// <summary>
    /// Moves the clock by <paramref name="by"/> at once, then fires each timer that fell due once, as a starved thread pool
    /// does: a periodic timer that missed several periods fires one late callback (and keeps its phase).
    /// </summary>
    public void Jump(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        List<FakeTimer> due;
        lock (_gate)
        {
            _now += by;
            _timestamp += by.Ticks;
            due = [.. _timers.Where(t => t.DueAt <= _timestamp).OrderBy(t => t.DueAt)];
            foreach (var timer in due)
            {
                if (timer.Period is { } period && period > 0)
                {
                    var missed = ((_timestamp - timer.DueAt!.Value) / period) + 1;
                    timer.DueAt += missed * period;
                }
                else
                {
                    timer.DueAt = null;
                }
            }
        }

        foreach (var timer in due)
        {
            timer.Fire();
        }
    }

    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        long target;
        lock (_gate)
        {
            target = _timestamp + by.Ticks;
        }

        while (true)
        {
            FakeTimer? due;
            lock (_gate)
            {
                due = _timers.Where(t => t.DueAt <= target).MinBy(t => t.DueAt); // the first of the earliest, in creation order
                if (due is null)
                {
                    _now += TimeSpan.FromTicks(target - _timestamp);
                    _timestamp = target;
                    return;
                }

                var step = due.DueAt!.Value - _timestamp;
                if (step > 0)
                {
                    _now += TimeSpan.FromTicks(step);
                    _timestamp = due.DueAt.Value;
                }

                due.DueAt = due.Period is { } period && period > 0 ? _timestamp + period : null;
            }

            due.Fire();
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new FakeTimer(this, callback, state);
        timer.Change(dueTime, period);
        lock (_gate)
        {
            _timers.Add(timer);
        }

        return timer;
    }

    private sealed class FakeTimer(FakeTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public long? DueAt { get; set; }

        public long? Period { get; private set; }

        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._gate)
            {
                DueAt = dueTime == Timeout.InfiniteTimeSpan ? null : owner._timestamp + dueTime.Ticks;
                Period = period == Timeout.InfiniteTimeSpan || period == TimeSpan.Zero ? null : period.Ticks;
            }

            return true;
        }

        public void Dispose()
        {
            lock (owner._gate)
            {
                DueAt = null;
                owner._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
