using SecretsCache.Resilience;
using SecretsCache.Tests.Fakes;
using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Resilience;

/// <summary>
/// The client-side token bucket: a burst, then wait or fail fast, never a silent drop. It refills on the provider's
/// <see cref="TimeProvider"/>, so on the fake clock here every count is exact: a token comes only when the test moves the clock.
/// </summary>
public sealed class ClientRateLimiterTests
{
    private const double OnePerFiftySeconds = 0.02;
    private const double AMinute = 60;

    private readonly FakeTimeProvider _clock = new();

    private static RateLimitOptions FailFast(double burstSeconds = 0.1) => new() { Behavior = RateLimitBehavior.FailFast, BurstSeconds = burstSeconds };

    /// <summary>Makes <paramref name="attempts"/> fail-fast acquisitions; returns how many were granted. Every refusal must be the typed one.</summary>
    private static async Task<int> AttemptAsync(ClientRateLimiter limiter, int attempts)
    {
        var granted = 0;
        for (var i = 0; i < attempts; i++)
        {
            try
            {
                await limiter.AcquireAsync("ssm:/x", CancellationToken.None);
                granted++;
            }
            catch (SecretThrottledException ex)
            {
                Assert.Equal(RetryPipelineFactory.ClientRateLimited, ex.ErrorCode);
                Assert.Contains("fail-fast", ex.Message, StringComparison.Ordinal);
            }
        }

        return granted;
    }

    [Fact]
    public async Task Fail_fast_allows_a_burst_of_one_second_then_refuses_with_a_typed_error_until_the_next_refill()
    {
        using var limiter = new ClientRateLimiter("Parameter Store", 40, FailFast(burstSeconds: 1), _clock);

        Assert.Equal(40, await AttemptAsync(limiter, 100)); // the burst, and not one more: the clock has not moved

        // 40/s refills one token every 25 ms.
        Assert.Equal(TimeSpan.FromMilliseconds(25), limiter.Period);
        _clock.Advance(limiter.Period - TimeSpan.FromTicks(1));
        Assert.Equal(0, await AttemptAsync(limiter, 10));
        _clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(1, await AttemptAsync(limiter, 10));
    }

    [Fact]
    public async Task The_default_burst_is_a_tenth_of_a_second_so_a_fleet_of_shares_cannot_double_the_quota()
    {
        using var limiter = new ClientRateLimiter("Secrets Manager", 1_000, FailFast(), _clock);

        Assert.Equal(100, await AttemptAsync(limiter, 1_000)); // a tenth of a second's 1,000
        _clock.Advance(TimeSpan.FromMilliseconds(20));
        Assert.Equal(20, await AttemptAsync(limiter, 1_000)); // one refill step: 20 tokens every 20 ms

        // A second of idling refills the burst only, never a second's worth.
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(100, await AttemptAsync(limiter, 1_000));
    }

    [Theory]
    [InlineData(10, 0.1)]
    [InlineData(12.5, 0.1)]          // 5,500 / (400 x 1.1): a 12.5/s bucket refilling every 80 ms fits 13 refills in some second
    [InlineData(13.6, 0.1)]
    [InlineData(15, 0.1)]
    [InlineData(22.67, 0.1)]
    [InlineData(40, 1)]
    [InlineData(100 / 1.1, 0.1)]     // one instance's share of a quota of 100: 2 tokens every 22 ms fit 46 refills in some second
    [InlineData(1_000, 0.1)]
    [InlineData(5_500, 0.1)]
    [InlineData(2, 0.5)]
    public async Task No_second_grants_more_than_the_rate_plus_the_burst_whenever_the_demand_comes(double rate, double burstSeconds)
    {
        // The sizing rule (RateLimitOptions.ShareAcross) rests on this: in any one second a bucket grants at most
        // rate x (1 + BurstSeconds). The worst demand idles until the bucket is full, then takes every token for a second;
        // the cycles below start that second at every millisecond of the refill period (refills fall on whole milliseconds
        // counted from construction).
        using var limiter = new ClientRateLimiter("Secrets Manager", rate, FailFast(burstSeconds), _clock);
        var period = (int)limiter.Period.TotalMilliseconds;
        var refillToFull = ((limiter.TokenLimit / limiter.TokensPerPeriod) + 2) * period;
        var grants = new List<int>(); // per millisecond since construction
        for (var phase = 0; phase < period; phase += Math.Max(1, period / 100))
        {
            var idle = refillToFull;
            while ((grants.Count + idle) % period != phase)
            {
                idle++;
            }

            for (var ms = 0; ms < idle; ms++)
            {
                grants.Add(0);
                _clock.Advance(TimeSpan.FromMilliseconds(1));
            }

            for (var ms = 0; ms < 1_000; ms++)
            {
                grants.Add(await TakeAllAsync(limiter));
                _clock.Advance(TimeSpan.FromMilliseconds(1));
            }
        }

        var bound = Math.Floor((rate * (1 + burstSeconds)) + 1e-9);
        var busiest = BusiestSecond(grants);
        Assert.True(busiest <= bound, $"{busiest} grants in one second at {rate}/s with {burstSeconds} s of burst (bound {bound})");
        Assert.True(busiest >= Math.Floor(rate * (1 + burstSeconds) * 0.85), $"only {busiest} in the busiest second: the bucket lost too much of its rate");
        var seconds = grants.Count / 1_000.0;
        Assert.True(grants.Sum() <= limiter.TokenLimit + (rate * seconds), $"{grants.Sum()} grants over {seconds} s at {rate}/s");
    }

    [Fact]
    public async Task Wait_mode_queues_a_request_over_the_limit_until_the_next_refill_instead_of_failing_or_dropping_it()
    {
        using var limiter = new ClientRateLimiter("Secrets Manager", OnePerFiftySeconds, new RateLimitOptions { BurstSeconds = AMinute }, _clock);
        await limiter.AcquireAsync(null, CancellationToken.None);

        var waiting = limiter.AcquireAsync(null, CancellationToken.None).AsTask();
        _clock.Advance(TimeSpan.FromSeconds(50) - TimeSpan.FromTicks(1));
        Assert.False(waiting.IsCompleted);

        _clock.Advance(TimeSpan.FromTicks(1));
        await waiting.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(limiter.HasTokenNow);
    }

    [Fact]
    public async Task Wait_mode_lets_a_waiting_request_be_cancelled()
    {
        using var limiter = new ClientRateLimiter("Secrets Manager", OnePerFiftySeconds, new RateLimitOptions { BurstSeconds = AMinute }, _clock);
        await limiter.AcquireAsync(null, CancellationToken.None);

        using var cancel = new CancellationTokenSource();
        var waiting = limiter.AcquireAsync(null, cancel.Token).AsTask();
        Assert.False(waiting.IsCompleted);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }

    [Fact]
    public async Task Wait_mode_with_a_full_queue_fails_with_a_typed_error()
    {
        using var limiter = new ClientRateLimiter("Secrets Manager", OnePerFiftySeconds, new RateLimitOptions { QueueLimit = 1, BurstSeconds = AMinute }, _clock);
        await limiter.AcquireAsync(null, CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var queued = limiter.AcquireAsync(null, cancel.Token).AsTask();

        var refused = await Assert.ThrowsAsync<SecretThrottledException>(() => limiter.AcquireAsync("sm:x", CancellationToken.None).AsTask());
        Assert.Contains("queue full", refused.Message, StringComparison.Ordinal);
        Assert.Equal(RetryPipelineFactory.ClientRateLimited, refused.ErrorCode);
        Assert.False(queued.IsCompleted);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
    }

    [Fact]
    public async Task Waiting_requests_get_each_refill_as_it_comes_never_more_and_none_lost()
    {
        using var limiter = new ClientRateLimiter("Secrets Manager", 1_000, new RateLimitOptions(), _clock);
        Assert.Equal(100, await TakeAllAsync(limiter));
        var granted = 0;
        var waiters = Enumerable.Range(0, 300).Select(_ => Task.Run(async () =>
        {
            await limiter.AcquireAsync(null, CancellationToken.None);
            Interlocked.Increment(ref granted);
        })).ToArray();
        Eventually.True(() => limiter.Queued == 300, "the 300 waiters to queue");

        // Each 20 ms step returns 20 tokens, each handed to a waiting request: never more, and none lost.
        for (var step = 1; step <= 15; step++)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(20));
            var expected = 20 * step;
            Eventually.True(() => Volatile.Read(ref granted) == expected, $"{expected} waiters to be granted");
            Assert.False(limiter.HasTokenNow);
        }

        await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(300, granted);
    }

    [Fact]
    public async Task Concurrent_fail_fast_requests_get_exactly_the_tokens_there_are()
    {
        using var limiter = new ClientRateLimiter("Secrets Manager", 1_000, FailFast(), _clock);

        var outcomes = await Concurrently.RunAsync(1_000, async _ =>
        {
            await limiter.AcquireAsync(null, CancellationToken.None);
            return true;
        });

        Assert.Equal(100, outcomes.Count(o => o.Error is null));
        Assert.All(outcomes.Where(o => o.Error is not null), o => Assert.Equal(RetryPipelineFactory.ClientRateLimited, Assert.IsType<SecretThrottledException>(o.Error).ErrorCode));
    }

    [Fact]
    public async Task A_refill_timer_that_fires_late_hands_out_the_refills_it_missed_and_never_more_than_the_burst()
    {
        using var limiter = new ClientRateLimiter("Secrets Manager", 1_000, FailFast(), _clock);
        Assert.Equal(100, await TakeAllAsync(limiter));

        // A busy machine: the 20 ms timer first fires at 65 ms, three periods late. Microsoft's clock then fires the two periods
        // it still owes at once, at the same 65 ms: they must find nothing more to hand out.
        _clock.Advance(TimeSpan.FromMilliseconds(65));
        Assert.Equal(60, await TakeAllAsync(limiter));
        _clock.Advance(TimeSpan.FromMilliseconds(15)); // its phase is kept: the next refill is at 80 ms
        Assert.Equal(20, await TakeAllAsync(limiter));

        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(100, await TakeAllAsync(limiter));
    }

    [Fact]
    public async Task A_full_bucket_keeps_no_timer_and_refills_on_its_phase_after_the_next_request()
    {
        using var limiter = new ClientRateLimiter("Secrets Manager", 1_000, FailFast(), _clock);
        Assert.Equal(0, _clock.ActiveTimers); // an idle provider costs the clock nothing

        _clock.Advance(TimeSpan.FromMilliseconds(30));
        Assert.Equal(100, await TakeAllAsync(limiter));
        Assert.Equal(1, _clock.ActiveTimers);
        _clock.Advance(TimeSpan.FromMilliseconds(9)); // refills come at 40, 60, 80 ... ms, counted from construction
        Assert.Equal(0, await TakeAllAsync(limiter));
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(20, await TakeAllAsync(limiter));

        _clock.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Equal(0, _clock.ActiveTimers);
        Assert.Equal(100, await TakeAllAsync(limiter));
    }

    [Fact]
    public async Task On_the_system_clock_a_drained_bucket_is_refilled_for_the_waiting_requests()
    {
        using var limiter = new ClientRateLimiter("Secrets Manager", 1_000, new RateLimitOptions(), TimeProvider.System);
        Assert.True(await TakeAllAsync(limiter) >= 100); // the burst (and whatever real refills came meanwhile)

        var waiting = Enumerable.Range(0, 50).Select(_ => limiter.AcquireAsync(null, CancellationToken.None).AsTask()).ToArray();

        await Task.WhenAll(waiting).WaitAsync(TimeSpan.FromSeconds(30)); // a bound against a hang, not a timing check
    }

    [Fact]
    public async Task A_rate_of_zero_means_no_limit()
    {
        using var limiter = new ClientRateLimiter("Secrets Manager", 0, FailFast(), _clock);

        for (var i = 0; i < 10_000; i++)
        {
            Assert.True(limiter.AcquireAsync(null, CancellationToken.None).AsTask().IsCompletedSuccessfully, "an unlimited request must never wait");
        }

        Assert.True(limiter.HasTokenNow);
        Assert.Equal(0, limiter.TokenLimit);
        Assert.Equal(0, _clock.ActiveTimers);
        await Task.CompletedTask;
    }

    [Theory]
    [InlineData(0.01)]
    [InlineData(0.08)]
    [InlineData(0.5)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(11)]
    [InlineData(40)]
    [InlineData(70)]
    [InlineData(99)]
    [InlineData(150)]
    [InlineData(250)]
    [InlineData(1_000)]
    [InlineData(5_500)]
    [InlineData(123_456)]
    public void The_refill_step_never_exceeds_the_configured_rate_and_loses_at_most_a_tenth(double rate)
    {
        var (period, tokens) = ClientRateLimiter.Replenishment(rate);

        // Timers fire on whole milliseconds: a fractional period would be cut short and raise the real rate.
        Assert.Equal(0, period.Ticks % TimeSpan.TicksPerMillisecond);
        var granted = tokens / period.TotalSeconds;
        Assert.InRange(granted, rate * 0.9, rate);
    }

    [Theory]
    [InlineData(15, 1)] // 1.5 requests of burst round down: rounding up would let a fleet of such shares exceed its quota
    [InlineData(40, 4)]
    [InlineData(1_000, 100)]
    public void The_burst_is_rounded_down_and_a_bucket_with_a_burst_starts_full(double rate, int burst)
    {
        using var limiter = new ClientRateLimiter("Secrets Manager", rate, new RateLimitOptions(), _clock);

        Assert.Equal(burst, limiter.TokenLimit);
        Assert.False(limiter.Staggered);
        Assert.Equal(TimeSpan.Zero, limiter.StartDelay);
        Assert.True(limiter.HasTokenNow);
    }

    [Fact]
    public async Task A_share_below_one_request_of_burst_starts_empty_and_gets_its_first_token_at_its_random_phase()
    {
        using var limiter = new ClientRateLimiter("Parameter Store", 0.5, new RateLimitOptions(), _clock, new FixedRandom(0.25));

        Assert.True(limiter.Staggered);
        Assert.Equal(TimeSpan.FromSeconds(2), limiter.Period);
        Assert.Equal(TimeSpan.FromSeconds(0.5), limiter.StartDelay);
        Assert.False(limiter.HasTokenNow);
        var first = limiter.AcquireAsync("ssm:/x", CancellationToken.None).AsTask();
        _clock.Advance(TimeSpan.FromMilliseconds(499));
        Assert.False(first.IsCompleted);

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        await first.WaitAsync(TimeSpan.FromSeconds(30));

        // That was the one token: the next comes a whole period later, on the same phase.
        Assert.False(limiter.HasTokenNow);
        var second = limiter.AcquireAsync("ssm:/x", CancellationToken.None).AsTask();
        _clock.Advance(TimeSpan.FromSeconds(2) - TimeSpan.FromTicks(1));
        Assert.False(second.IsCompleted);
        _clock.Advance(TimeSpan.FromTicks(1));
        await second.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Fail_fast_refuses_before_the_first_token_of_a_staggered_start()
    {
        using var limiter = new ClientRateLimiter("Parameter Store", 0.5, FailFast(), _clock, new FixedRandom(0.5));

        var refused = await Assert.ThrowsAsync<SecretThrottledException>(() => limiter.AcquireAsync("ssm:/x", CancellationToken.None).AsTask());
        Assert.Equal(RetryPipelineFactory.ClientRateLimited, refused.ErrorCode);

        _clock.Advance(TimeSpan.FromSeconds(1)); // the phase: half of the 2 s period
        await limiter.AcquireAsync("ssm:/x", CancellationToken.None);
    }

    [Fact]
    public async Task Disposing_during_a_staggered_start_cancels_the_waiting_requests()
    {
        var limiter = new ClientRateLimiter("Parameter Store", 0.5, new RateLimitOptions(), _clock, new FixedRandom(0.5));
        var waiting = limiter.AcquireAsync(null, CancellationToken.None).AsTask();

        limiter.Dispose();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, _clock.ActiveTimers);
    }

    [Fact]
    public async Task Disposing_cancels_requests_waiting_for_a_refill()
    {
        var limiter = new ClientRateLimiter("Secrets Manager", 1_000, new RateLimitOptions(), _clock);
        Assert.Equal(100, await TakeAllAsync(limiter));
        var waiting = limiter.AcquireAsync(null, CancellationToken.None).AsTask();

        limiter.Dispose();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, _clock.ActiveTimers);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => limiter.AcquireAsync(null, CancellationToken.None).AsTask());
    }

    [Fact]
    public void A_fleet_of_shares_started_together_spreads_its_first_requests_over_one_period()
    {
        // 500 instances sharing Parameter Store's 40/s by the sizing rule (40 / (500 x 1.1)), all constructed at one instant.
        const int Instances = 500;
        const double Quota = 40;
        var share = Quota / (Instances * 1.1);
        var random = new Random(20261123);
        var limiters = Enumerable.Range(0, Instances)
            .Select(_ => new ClientRateLimiter("Parameter Store", share, new RateLimitOptions(), new FakeTimeProvider(), random))
            .ToList();
        try
        {
            var period = limiters[0].Period.TotalSeconds;
            Assert.All(limiters, l => Assert.InRange(l.StartDelay.TotalSeconds, 0, period));

            // Buckets that started full would all send in the first second (500 against 40). Spread, no second gets
            // much more than the share's mean (36.4); the fluctuation is what an AWS quota's own burst absorbs.
            var perSecond = limiters.GroupBy(l => (int)l.StartDelay.TotalSeconds).Select(g => g.Count()).ToList();
            Assert.Equal((int)Math.Ceiling(period), perSecond.Count);
            Assert.InRange(perSecond.Max(), 1, Quota * 1.5);
        }
        finally
        {
            limiters.ForEach(l => l.Dispose());
        }
    }

    /// <summary>Takes every token the bucket has now (the bucket is used by one thread here, so the hint is exact).</summary>
    internal static async Task<int> TakeAllAsync(ClientRateLimiter limiter)
    {
        var taken = 0;
        while (limiter.HasTokenNow)
        {
            await limiter.AcquireAsync(null, CancellationToken.None);
            taken++;
        }

        return taken;
    }

    /// <summary>The most grants in any 1,000 consecutive milliseconds.</summary>
    internal static int BusiestSecond(IReadOnlyList<int> grantsPerMillisecond)
    {
        var window = 0;
        var busiest = 0;
        for (var ms = 0; ms < grantsPerMillisecond.Count; ms++)
        {
            window += grantsPerMillisecond[ms] - (ms >= 1_000 ? grantsPerMillisecond[ms - 1_000] : 0);
            busiest = Math.Max(busiest, window);
        }

        return busiest;
    }

    internal sealed class FixedRandom(double value) : Random
    {
        public override double NextDouble() => value;
    }
}
