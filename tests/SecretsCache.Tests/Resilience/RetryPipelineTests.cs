using Polly;
using Polly.CircuitBreaker;
using SecretsCache.Resilience;
using SecretsCache.Tests.Fakes;

namespace SecretsCache.Tests.Resilience;

/// <summary>The one retrying layer: what it retries, how often, and how long it waits, on a controllable clock.</summary>
public sealed class RetryPipelineTests
{
    [Theory]
    [InlineData(typeof(SecretThrottledException), true)]
    [InlineData(typeof(SecretServiceUnavailableException), true)]
    [InlineData(typeof(SecretNotFoundException), false)]
    [InlineData(typeof(SecretAccessDeniedException), false)]
    [InlineData(typeof(SecretRequestException), false)]
    [InlineData(typeof(SecretDecryptionException), false)]
    [InlineData(typeof(InvalidOperationException), false)]
    public void Only_throttling_and_transient_failures_are_retried(Type type, bool retried) =>
        Assert.Equal(retried, RetryPipelineFactory.IsRetryable((Exception)Activator.CreateInstance(type, "boom")!));

    [Fact]
    public void Fail_fast_rate_limiting_is_not_retried() =>
        Assert.False(RetryPipelineFactory.IsRetryable(new SecretThrottledException("limited", null, RetryPipelineFactory.ClientRateLimited)));

    [Fact]
    public void Full_jitter_stays_between_zero_and_the_capped_exponential()
    {
        var baseDelay = TimeSpan.FromMilliseconds(100);
        var cap = TimeSpan.FromSeconds(1);
        Assert.Equal(TimeSpan.Zero, RetryPipelineFactory.FullJitter(baseDelay, cap, 3, 0));
        Assert.Equal(TimeSpan.FromMilliseconds(100), RetryPipelineFactory.FullJitter(baseDelay, cap, 0, 1));
        Assert.Equal(TimeSpan.FromMilliseconds(400), RetryPipelineFactory.FullJitter(baseDelay, cap, 2, 1));
        Assert.Equal(TimeSpan.FromSeconds(1), RetryPipelineFactory.FullJitter(baseDelay, cap, 10, 1)); // capped
        Assert.Equal(TimeSpan.FromMilliseconds(200), RetryPipelineFactory.FullJitter(baseDelay, cap, 2, 0.5));
    }

    [Fact]
    public async Task Throttling_backs_off_from_one_second_and_gets_five_retries_within_the_total_budget()
    {
        // Jitter pinned to its maximum: 1, 2, 4 s, then MaxDelay (5 s) twice; 17 s in all, inside the 20 s TotalTimeout.
        var attempts = await RunUntilItSurfaces<SecretThrottledException>(
            new RetryOptions(), () => new SecretThrottledException("slow down", "sm:x", "ThrottlingException"), [1000, 2000, 4000, 5000, 5000]);
        Assert.Equal(6, attempts);
    }

    [Fact]
    public async Task Transient_failures_back_off_from_the_base_delay_and_get_three_retries()
    {
        var attempts = await RunUntilItSurfaces<SecretServiceUnavailableException>(
            new RetryOptions(), () => new SecretServiceUnavailableException("503", "sm:x", "ServiceUnavailable"), [100, 200, 400]);
        Assert.Equal(4, attempts);
    }

    [Fact]
    public async Task The_throttling_schedule_follows_its_own_options()
    {
        var options = new RetryOptions { MaxThrottlingRetryAttempts = 2, ThrottlingBaseDelay = TimeSpan.FromMilliseconds(300) };
        var attempts = await RunUntilItSurfaces<SecretThrottledException>(
            options, () => new SecretThrottledException("slow down", "sm:x", "ThrottlingException"), [300, 600]);
        Assert.Equal(3, attempts);
    }

    /// <summary>
    /// Runs a call that always fails on a fake clock with jitter pinned to its maximum, and checks that each retry waits
    /// exactly the given delay: not a millisecond less, and the next attempt once it has passed.
    /// </summary>
    private static async Task<int> RunUntilItSurfaces<TError>(RetryOptions options, Func<Exception> failure, int[] delaysMs)
        where TError : Exception
    {
        var time = new FakeTimeProvider();
        var pipeline = RetryPipelineFactory.Create(options, time, () => 1);
        var attempts = 0;
        var run = pipeline.ExecuteAsync<int>(_ =>
        {
            Interlocked.Increment(ref attempts);
            throw failure();
        }).AsTask();

        // Before advancing, wait until the pipeline has armed its delay timer (the total-budget timer is the other one).
        var expected = 1;
        foreach (var delay in delaysMs)
        {
            Assert.True(SpinWait.SpinUntil(() => time.ActiveTimers == 2, TimeSpan.FromSeconds(30)), "the retry delay was never scheduled");
            Assert.Equal(expected, Volatile.Read(ref attempts));
            time.Advance(TimeSpan.FromMilliseconds(delay - 1));
            Assert.False(run.IsCompleted);
            Assert.Equal(expected, Volatile.Read(ref attempts));
            time.Advance(TimeSpan.FromMilliseconds(1));
            expected++;
        }

        Assert.True(SpinWait.SpinUntil(() => run.IsCompleted, TimeSpan.FromSeconds(30)), "the call was still retrying after the expected schedule");
        await Assert.ThrowsAsync<TError>(() => run);
        return attempts;
    }

    [Fact]
    public async Task A_long_throttling_episode_spends_the_retry_quota_then_errors_surface_without_retries()
    {
        // Jitter pinned to zero, so no retry waits. 500 tokens at 5 per throttling retry: 100 retries, then none.
        var pipeline = RetryPipelineFactory.Create(new RetryOptions(), new FakeTimeProvider(), () => 0);
        var attempts = 0;
        for (var call = 0; call < 200; call++)
        {
            await Assert.ThrowsAsync<SecretThrottledException>(() => pipeline.ExecuteAsync<int>(_ =>
            {
                attempts++;
                throw new SecretThrottledException("slow down", "sm:x", "ThrottlingException");
            }).AsTask());
        }

        Assert.Equal(200 + (RetryQuota.Capacity / RetryQuota.ThrottlingCost), attempts);
    }

    [Fact]
    public async Task Successes_refill_the_retry_quota()
    {
        var pipeline = RetryPipelineFactory.Create(new RetryOptions(), new FakeTimeProvider(), () => 0);
        var attempts = 0;
        ValueTask<int> AlwaysThrottled(CancellationToken _)
        {
            attempts++;
            throw new SecretThrottledException("slow down", "sm:x", "ThrottlingException");
        }

        var throttledOnce = 0;
        ValueTask<int> ThrottledOnce(CancellationToken _) => ++throttledOnce % 2 == 1
            ? throw new SecretThrottledException("slow down", "sm:x", "ThrottlingException")
            : ValueTask.FromResult(throttledOnce);

        while (attempts < RetryQuota.Capacity)
        {
            var before = attempts;
            await Assert.ThrowsAsync<SecretThrottledException>(() => pipeline.ExecuteAsync(AlwaysThrottled).AsTask());
            if (attempts - before == 1)
            {
                break; // the quota is spent: this call was not retried
            }
        }

        await Assert.ThrowsAsync<SecretThrottledException>(() => pipeline.ExecuteAsync(ThrottledOnce).AsTask()); // not retried
        throttledOnce = 0;

        // A success without retries puts one token back: five of them pay for one throttling retry.
        for (var i = 0; i < RetryQuota.ThrottlingCost; i++)
        {
            Assert.Equal(1, await pipeline.ExecuteAsync(static _ => ValueTask.FromResult(1)));
        }

        Assert.Equal(2, await pipeline.ExecuteAsync(ThrottledOnce)); // retried once, and the retry's cost comes back on success
        throttledOnce = 0;
        Assert.Equal(2, await pipeline.ExecuteAsync(ThrottledOnce));
    }

    [Fact]
    public void A_transient_retry_costs_more_of_the_quota_than_a_throttling_retry()
    {
        var quota = new RetryQuota();
        Assert.Equal(RetryQuota.ThrottlingCost, RetryQuota.CostOf(new SecretThrottledException("slow down", "sm:x", "ThrottlingException")));
        Assert.Equal(RetryQuota.TransientCost, RetryQuota.CostOf(new SecretServiceUnavailableException("503", "sm:x", "ServiceUnavailable")));
        Assert.True(RetryQuota.TransientCost > RetryQuota.ThrottlingCost);
        Assert.True(quota.TryAcquire(RetryQuota.Capacity));
        Assert.False(quota.TryAcquire(1));
        quota.Release(0);
        Assert.Equal(1, quota.Available);
        quota.Release(RetryQuota.Capacity * 2);
        Assert.Equal(RetryQuota.Capacity, quota.Available); // never above capacity
    }

    [Fact]
    public async Task Concurrent_calls_never_spend_more_than_the_quota()
    {
        var pipeline = RetryPipelineFactory.Create(new RetryOptions(), new FakeTimeProvider(), () => 0);
        var attempts = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            for (var call = 0; call < 100; call++)
            {
                await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => pipeline.ExecuteAsync<int>(_ =>
                {
                    Interlocked.Increment(ref attempts);
                    throw new SecretServiceUnavailableException("503", "sm:x", "ServiceUnavailable");
                }).AsTask());
            }
        })));

        Assert.Equal(800 + (RetryQuota.Capacity / RetryQuota.TransientCost), attempts);
    }

    [Theory]
    [InlineData("ResponseTooLarge")]
    [InlineData(RetryPipelineFactory.ClientRateLimited)]
    public void Answers_that_would_come_back_the_same_are_not_retried(string code) =>
        Assert.False(RetryPipelineFactory.IsRetryable(code == RetryPipelineFactory.ClientRateLimited
            ? new SecretThrottledException("limited", null, code)
            : new SecretServiceUnavailableException("too large", null, code)));

    [Fact]
    public async Task A_not_found_is_not_retried()
    {
        var pipeline = RetryPipelineFactory.Create(new RetryOptions(), new FakeTimeProvider());
        var attempts = 0;
        await Assert.ThrowsAsync<SecretNotFoundException>(() => pipeline.ExecuteAsync<int>(_ =>
        {
            attempts++;
            throw new SecretNotFoundException("gone", "sm:x", "ResourceNotFoundException");
        }).AsTask());
        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task A_transient_failure_followed_by_success_returns_the_success()
    {
        var time = new FakeTimeProvider();
        var pipeline = RetryPipelineFactory.Create(new RetryOptions(), time, () => 0);
        var attempts = 0;
        var result = await pipeline.ExecuteAsync(_ => ++attempts < 3
            ? throw new SecretServiceUnavailableException("503", "sm:x", "ServiceUnavailable")
            : ValueTask.FromResult(attempts));
        Assert.Equal(3, result);
    }

    [Theory]
    [InlineData(typeof(SecretServiceUnavailableException), true)]
    [InlineData(typeof(SecretThrottledException), false)]
    [InlineData(typeof(SecretNotFoundException), false)]
    [InlineData(typeof(SecretAccessDeniedException), false)]
    [InlineData(typeof(SecretRequestException), false)]
    public void Only_the_service_failing_counts_against_the_breaker(Type type, bool counts) =>
        Assert.Equal(counts, RetryPipelineFactory.IsOutage((Exception)Activator.CreateInstance(type, "boom")!));

    [Fact]
    public async Task An_outage_opens_the_breaker_then_calls_fail_without_running_until_one_probe_after_the_break()
    {
        var time = new FakeTimeProvider();
        var breaker = new CircuitBreakerStateProvider();
        var pipeline = RetryPipelineFactory.Create(new RetryOptions { MaxRetryAttempts = 0, BreakDuration = TimeSpan.FromSeconds(5) }, time, () => 0, breaker);
        var runs = 0;
        var failing = true;
        ValueTask<int> Call(CancellationToken _)
        {
            runs++;
            return failing ? throw new SecretServiceUnavailableException("503", "sm:x", "ServiceUnavailable") : ValueTask.FromResult(1);
        }

        for (var i = 0; i < Defaults.BreakerMinimumThroughput; i++)
        {
            await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => pipeline.ExecuteAsync(Call).AsTask());
        }

        Assert.Equal(CircuitState.Open, breaker.CircuitState);
        await Assert.ThrowsAsync<BrokenCircuitException>(() => pipeline.ExecuteAsync(Call).AsTask());
        Assert.Equal(Defaults.BreakerMinimumThroughput, runs); // nothing ran while open

        failing = false;
        time.Advance(TimeSpan.FromSeconds(4.9));
        await Assert.ThrowsAsync<BrokenCircuitException>(() => pipeline.ExecuteAsync(Call).AsTask());
        time.Advance(TimeSpan.FromSeconds(0.1));

        Assert.Equal(1, await pipeline.ExecuteAsync(Call)); // the probe
        Assert.Equal(CircuitState.Closed, breaker.CircuitState);
        Assert.Equal(Defaults.BreakerMinimumThroughput + 1, runs);
    }

    [Theory]
    [InlineData(false, 0)]    // throttling is the quota's business, never an outage
    [InlineData(true, 0)]     // BreakDuration zero: no breaker at all
    public async Task Throttling_or_a_zero_break_duration_never_opens_a_breaker(bool outage, int breakSeconds)
    {
        var breaker = new CircuitBreakerStateProvider();
        var options = new RetryOptions { MaxRetryAttempts = 0, MaxThrottlingRetryAttempts = 0, BreakDuration = outage ? TimeSpan.FromSeconds(breakSeconds) : TimeSpan.FromSeconds(5) };
        var pipeline = RetryPipelineFactory.Create(options, new FakeTimeProvider(), () => 0, breaker);
        var runs = 0;

        for (var i = 0; i < 50; i++)
        {
            await Assert.ThrowsAnyAsync<SecretsCacheException>(() => pipeline.ExecuteAsync<int>(_ =>
            {
                runs++;
                throw outage
                    ? new SecretServiceUnavailableException("503", "sm:x", "ServiceUnavailable")
                    : new SecretThrottledException("slow down", "sm:x", "ThrottlingException");
            }).AsTask());
        }

        Assert.Equal(50, runs);
        Assert.Equal(CircuitState.Closed, breaker.CircuitState);
    }
}
