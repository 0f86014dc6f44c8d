namespace SecretsCache.IntegrationTests.Emulator.Support;

/// <summary>
/// A clock that moves only when a test advances it; timers fire during <see cref="Advance"/>, each once however many of its
/// periods passed (as a late timer does), a periodic one then keeping its phase.
/// </summary>
internal sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private readonly object _lock = new();
    private readonly List<ManualTimer> _timers = [];
    private readonly SemaphoreSlim _timerCreated = new(0);
    private DateTimeOffset _now = start;
    private int _created;

    public ManualTimeProvider()
        : this(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero))
    {
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock)
        {
            return _now;
        }
    }

    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    /// <summary>How many timers were ever created on this clock.</summary>
    public int TimersCreated => Volatile.Read(ref _created);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        Interlocked.Increment(ref _created);
        _timerCreated.Release();
        return timer;
    }

    /// <summary>Completes once a timer has been created (e.g. the emulator started waiting out its latency); bounded by a timeout.</summary>
    public async Task WaitForTimerAsync()
    {
        Assert.True(await _timerCreated.WaitAsync(TimeSpan.FromSeconds(30)), "No timer was created.");
    }

    /// <summary>Timers that will fire within <paramref name="horizon"/> from now (inclusive): who is waiting on the clock soon.</summary>
    public int TimersDueWithin(TimeSpan horizon)
    {
        lock (_lock)
        {
            return _timers.Count(t => t.DueAt <= _now + horizon);
        }
    }

    /// <summary>How long until the earliest timer fires; null when none is scheduled.</summary>
    public TimeSpan? NextTimerDue
    {
        get
        {
            lock (_lock)
            {
                return _timers.Count == 0 ? null : _timers.Min(t => t.DueAt) - _now;
            }
        }
    }

    public void Advance(TimeSpan by)
    {
        List<ManualTimer> due;
        lock (_lock)
        {
            _now += by;
            due = [.. _timers.Where(t => t.DueAt <= _now).OrderBy(t => t.DueAt)];
            foreach (var timer in due)
            {
                if (timer.Period > TimeSpan.Zero)
                {
                    timer.DueAt += timer.Period * (Math.Floor((_now - timer.DueAt) / timer.Period) + 1);
                }
                else
                {
                    _timers.Remove(timer);
                    timer.DueAt = DateTimeOffset.MaxValue;
                }
            }
        }

        foreach (var timer in due)
        {
            timer.Fire();
        }
    }

    private void Schedule(ManualTimer timer, DateTimeOffset? dueAt, TimeSpan period)
    {
        lock (_lock)
        {
            _timers.Remove(timer);
            timer.DueAt = dueAt ?? DateTimeOffset.MaxValue;
            timer.Period = period == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : period;
            if (dueAt is not null)
            {
                _timers.Add(timer);
            }
        }
    }

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset DueAt { get; set; } = DateTimeOffset.MaxValue;

        public TimeSpan Period { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            owner.Schedule(this, dueTime == Timeout.InfiniteTimeSpan ? null : owner.GetUtcNow() + dueTime, period);
            return true;
        }

        public void Fire() => callback(state);

        public void Dispose() => owner.Schedule(this, null, Timeout.InfiniteTimeSpan);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
