using SecretsCache.Resilience;

namespace SecretsCache.Tests.Resilience;

/// <summary>
/// System timers fire by a coarse millisecond clock, and on Linux often a few milliseconds before the deadline the bucket
/// computes from its timestamps. A refill timer that fired early used to find no refill due and wait for its next period:
/// for a staggered fleet share (one token every 20 s at 500 instances) that was a whole period late, and in the fleet
/// benchmark a quarter of the instances got their first Parameter Store token 20 s late, missed the deploy and failed
/// cold reads. An early callback now re-arms for what is left.
/// </summary>
public sealed class EarlyTimerTests
{
    [Fact]
    public async Task A_refill_timer_that_fires_early_re_arms_for_the_rest_and_the_token_comes_on_time()
    {
        var clock = new EarlyTimers(new FakeTimeProvider());
        // 0.5/s: one token every 2 s, its first at a quarter of the period (0.5 s).
        using var limiter = new ClientRateLimiter("Parameter Store", 0.5, new RateLimitOptions(), clock, new ClientRateLimiterTests.FixedRandom(0.25));
        Assert.Equal(TimeSpan.FromSeconds(0.5), limiter.StartDelay);

        // The clock moves a millisecond at a time, so each timer fires at the moment it is due, early as system timers are.
        var first = limiter.AcquireAsync("ssm:/x", CancellationToken.None).AsTask();
        Step(clock.Inner, TimeSpan.FromMilliseconds(502));
        await first.WaitAsync(TimeSpan.FromSeconds(10)); // before the fix: only at 2.495 s, a period late

        var second = limiter.AcquireAsync("ssm:/x", CancellationToken.None).AsTask();
        Step(clock.Inner, TimeSpan.FromMilliseconds(2_000));
        await second.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static void Step(FakeTimeProvider clock, TimeSpan total)
    {
        for (var moved = TimeSpan.Zero; moved < total; moved += TimeSpan.FromMilliseconds(1))
        {
            clock.Advance(TimeSpan.FromMilliseconds(1));
        }
    }

    /// <summary>The fake clock, whose timers fire early: up to 5 ms, at most half of the wait asked for.</summary>
    private sealed class EarlyTimers(FakeTimeProvider inner) : TimeProvider
    {
        public FakeTimeProvider Inner { get; } = inner;

        public override long TimestampFrequency => Inner.TimestampFrequency;

        public override long GetTimestamp() => Inner.GetTimestamp();

        public override DateTimeOffset GetUtcNow() => Inner.GetUtcNow();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            new Timer(Inner.CreateTimer(callback, state, Early(dueTime), period));

        private static TimeSpan Early(TimeSpan due) =>
            due == Timeout.InfiniteTimeSpan || due <= TimeSpan.Zero ? due : due - TimeSpan.FromTicks(Math.Min(TimeSpan.FromMilliseconds(5).Ticks, due.Ticks / 2));

        private sealed class Timer(ITimer inner) : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => inner.Change(Early(dueTime), period);

            public void Dispose() => inner.Dispose();

            public ValueTask DisposeAsync() => inner.DisposeAsync();
        }
    }
}
