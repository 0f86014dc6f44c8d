using Polly;
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
}
