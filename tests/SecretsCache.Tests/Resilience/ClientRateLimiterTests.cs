using SecretsCache.Resilience;
using SecretsCache.Tests.Fakes;

namespace SecretsCache.Tests.Resilience;

/// <summary>
/// The client-side token bucket: a burst, then wait or fail fast, never a silent drop. The wait tests use a rate so low (one token
/// per 50 s, with a minute of burst so the bucket starts with one token) that no refill can happen during a test.
/// </summary>
public sealed class ClientRateLimiterTests
{
    private const double OnePerFiftySeconds = 0.02;
    private const double AMinute = 60;

    [Fact]
    public async Task Fail_fast_allows_a_burst_of_one_second_then_refuses_with_a_typed_error()
    {
        using var limiter = new ClientRateLimiter("Parameter Store", 40, new RateLimitOptions { Behavior = RateLimitBehavior.FailFast, BurstSeconds = 1 });
        var refused = 0;
        for (var i = 0; i < 100; i++)
        {
            try
            {
                await limiter.AcquireAsync("ssm:/x", CancellationToken.None);
            }
            catch (SecretThrottledException ex) when (ex.ErrorCode == RetryPipelineFactory.ClientRateLimited)
            {
                refused++;
            }
        }

        // 40 tokens of burst, plus at most a few refilled (40/s) if the loop is slow: never all 100.
        Assert.InRange(100 - refused, 40, 60);
    }

    [Fact]
    public async Task The_default_burst_is_a_tenth_of_a_second_so_a_fleet_of_shares_cannot_double_the_quota()
    {
        using var limiter = new ClientRateLimiter("Secrets Manager", 1_000, new RateLimitOptions { Behavior = RateLimitBehavior.FailFast });
        var acquired = 0;
        for (var i = 0; i < 1_000; i++)
        {
            try
            {
                await limiter.AcquireAsync(null, CancellationToken.None);
                acquired++;
            }
            catch (SecretThrottledException)
            {
            }
        }

        // 100 tokens of burst, plus whatever refilled (10 per 10 ms) while the loop ran: far from a full second's 1,000.
        Assert.InRange(acquired, 100, 400);
    }

    [Fact]
    public async Task Wait_mode_queues_a_request_over_the_limit_instead_of_failing_or_dropping_it()
    {
        using var limiter = new ClientRateLimiter("Secrets Manager", OnePerFiftySeconds, new RateLimitOptions { BurstSeconds = AMinute });
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
        using var limiter = new ClientRateLimiter("Secrets Manager", OnePerFiftySeconds, new RateLimitOptions { QueueLimit = 1, BurstSeconds = AMinute });
        await limiter.AcquireAsync(null, CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var queued = limiter.AcquireAsync(null, cancel.Token).AsTask();

        var refused = await Assert.ThrowsAsync<SecretThrottledException>(() => limiter.AcquireAsync("sm:x", CancellationToken.None).AsTask());
        Assert.Contains("queue full", refused.Message, StringComparison.Ordinal);
        Assert.False(queued.IsCompleted);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
    }

    [Fact]
    public async Task A_rate_of_zero_means_no_limit()
    {
        using var limiter = new ClientRateLimiter("Secrets Manager", 0, new RateLimitOptions { Behavior = RateLimitBehavior.FailFast });
        for (var i = 0; i < 10_000; i++)
        {
            await limiter.AcquireAsync(null, CancellationToken.None);
        }
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
        using var limiter = new ClientRateLimiter("Secrets Manager", rate, new RateLimitOptions());

        Assert.Equal(burst, limiter.TokenLimit);
        Assert.False(limiter.Staggered);
        Assert.Equal(TimeSpan.Zero, limiter.StartDelay);
        Assert.True(limiter.HasTokenNow);
    }

    [Fact]
    public async Task A_share_below_one_request_of_burst_starts_empty_and_gets_its_first_token_at_its_random_phase()
    {
        var clock = new FakeTimeProvider();
        using var limiter = new ClientRateLimiter("Parameter Store", 0.5, new RateLimitOptions(), clock, new FixedRandom(0.25));

        Assert.True(limiter.Staggered);
        Assert.Equal(TimeSpan.FromSeconds(2), limiter.Period);
        Assert.Equal(TimeSpan.FromSeconds(0.5), limiter.StartDelay);
        Assert.False(limiter.HasTokenNow);
        var first = limiter.AcquireAsync("ssm:/x", CancellationToken.None).AsTask();
        clock.Advance(TimeSpan.FromMilliseconds(499));
        Assert.False(first.IsCompleted);

        clock.Advance(TimeSpan.FromMilliseconds(1));
        await first.WaitAsync(TimeSpan.FromSeconds(30));

        // That was the one token: the next comes a whole period later.
        Assert.False(limiter.HasTokenNow);
    }

    [Fact]
    public async Task Fail_fast_refuses_before_the_first_token_of_a_staggered_start()
    {
        using var limiter = new ClientRateLimiter(
            "Parameter Store", 0.5, new RateLimitOptions { Behavior = RateLimitBehavior.FailFast }, new FakeTimeProvider(), new FixedRandom(0.5));

        var refused = await Assert.ThrowsAsync<SecretThrottledException>(() => limiter.AcquireAsync("ssm:/x", CancellationToken.None).AsTask());
        Assert.Equal(RetryPipelineFactory.ClientRateLimited, refused.ErrorCode);
    }

    [Fact]
    public async Task Disposing_during_a_staggered_start_cancels_the_waiting_requests()
    {
        var clock = new FakeTimeProvider();
        var limiter = new ClientRateLimiter("Parameter Store", 0.5, new RateLimitOptions(), clock, new FixedRandom(0.5));
        var waiting = limiter.AcquireAsync(null, CancellationToken.None).AsTask();

        limiter.Dispose();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, clock.ActiveTimers);
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

    private sealed class FixedRandom(double value) : Random
    {
        public override double NextDouble() => value;
    }
}
