namespace SecretsCache.IntegrationTests.Emulator.Support;

/// <summary>
/// Microsoft's <see cref="FakeTimeProvider"/> that also says when a timer is created (e.g. the emulator started waiting out
/// its latency), so a test moves the clock only once something really waits on it. It counts and signals; the clock is Microsoft's.
/// </summary>
internal sealed class SignallingTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly SemaphoreSlim _timerCreated = new(0);
    private int _created;

    public SignallingTimeProvider()
        : this(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero))
    {
    }

    /// <summary>How many timers were ever created on this clock.</summary>
    public int TimersCreated => Volatile.Read(ref _created);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        Interlocked.Increment(ref _created);
        _timerCreated.Release();
        return timer;
    }

    /// <summary>Completes once a timer has been created (one per call); bounded by a timeout.</summary>
    public async Task WaitForTimerAsync()
    {
        Assert.True(await _timerCreated.WaitAsync(TimeSpan.FromSeconds(30)), "No timer was created.");
    }
}
