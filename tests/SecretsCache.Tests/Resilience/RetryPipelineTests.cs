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
        var options = new RetryOptions { BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1) };
        Assert.Equal(TimeSpan.Zero, RetryPipelineFactory.FullJitter(options, 3, 0));
        Assert.Equal(TimeSpan.FromMilliseconds(100), RetryPipelineFactory.FullJitter(options, 0, 1));
        Assert.Equal(TimeSpan.FromMilliseconds(400), RetryPipelineFactory.FullJitter(options, 2, 1));
        Assert.Equal(TimeSpan.FromSeconds(1), RetryPipelineFactory.FullJitter(options, 10, 1)); // capped
        Assert.Equal(TimeSpan.FromMilliseconds(200), RetryPipelineFactory.FullJitter(options, 2, 0.5));
    }

    [Fact]
    public async Task A_throttled_call_is_retried_up_to_the_limit_then_the_error_surfaces()
    {
        var time = new FakeTimeProvider();
        var pipeline = RetryPipelineFactory.Create(new RetryOptions { MaxRetryAttempts = 3 }, time, () => 1);
        var attempts = 0;
        var run = pipeline.ExecuteAsync<int>(_ =>
        {
            attempts++;
            throw new SecretThrottledException("slow down", "sm:x", "ThrottlingException");
        }).AsTask();

        // Each retry waits on the fake clock: 100, 200, 400 ms with jitter pinned to its maximum. Before advancing, wait until the
        // pipeline has armed its delay timer (the total-budget timer is the other one).
        foreach (var delay in new[] { 100, 200, 400 })
        {
            Assert.True(SpinWait.SpinUntil(() => time.ActiveTimers == 2, TimeSpan.FromSeconds(30)), "the retry delay was never scheduled");
            Assert.False(run.IsCompleted);
            time.Advance(TimeSpan.FromMilliseconds(delay - 1));
            Assert.False(run.IsCompleted);
            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        await Assert.ThrowsAsync<SecretThrottledException>(() => run);
        Assert.Equal(4, attempts);
    }

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

    [Fact]
    public void A_user_supplied_pipeline_replaces_the_built_in_one()
    {
        var custom = new ResiliencePipelineBuilder().Build();
        Assert.Same(custom, RetryPipelineFactory.Create(new RetryOptions { Pipeline = custom }, TimeProvider.System));
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

        for (var i = 0; i < RetryPipelineFactory.BreakerMinimumThroughput; i++)
        {
            await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => pipeline.ExecuteAsync(Call).AsTask());
        }

        Assert.Equal(CircuitState.Open, breaker.CircuitState);
        await Assert.ThrowsAsync<BrokenCircuitException>(() => pipeline.ExecuteAsync(Call).AsTask());
        Assert.Equal(RetryPipelineFactory.BreakerMinimumThroughput, runs); // nothing ran while open

        failing = false;
        time.Advance(TimeSpan.FromSeconds(4.9));
        await Assert.ThrowsAsync<BrokenCircuitException>(() => pipeline.ExecuteAsync(Call).AsTask());
        time.Advance(TimeSpan.FromSeconds(0.1));

        Assert.Equal(1, await pipeline.ExecuteAsync(Call)); // the probe
        Assert.Equal(CircuitState.Closed, breaker.CircuitState);
        Assert.Equal(RetryPipelineFactory.BreakerMinimumThroughput + 1, runs);
    }

    [Theory]
    [InlineData(false, 0)]    // throttling is the quota's business, never an outage
    [InlineData(true, 0)]     // BreakDuration zero: no breaker at all
    public async Task Throttling_or_a_zero_break_duration_never_opens_a_breaker(bool outage, int breakSeconds)
    {
        var breaker = new CircuitBreakerStateProvider();
        var options = new RetryOptions { MaxRetryAttempts = 0, BreakDuration = outage ? TimeSpan.FromSeconds(breakSeconds) : TimeSpan.FromSeconds(5) };
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
