using Polly.Timeout;
using SecretsCache.Resilience;
using SecretsCache.Tests.Fakes;
using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Resilience;

/// <summary>
/// The rate-limit wait is a stage of the pipeline: every attempt, retries included, takes a token, and waiting for one
/// pauses <see cref="RetryOptions.TotalTimeout"/> (the queue is not AWS failing); the caller's token still bounds the wait.
/// </summary>
public sealed class RateLimitStageTests
{
    private readonly FakeTimeProvider _time = new();

    // A budget of 2.5 s, one retry a second after a failure (jitter pinned to its maximum).
    private static readonly RetryOptions Options = new()
    {
        MaxRetryAttempts = 3,
        BaseDelay = TimeSpan.FromSeconds(1),
        MaxDelay = TimeSpan.FromSeconds(1),
        TotalTimeout = TimeSpan.FromSeconds(2.5),
        BreakDuration = TimeSpan.Zero,
    };

    // One token per 10 s, bucket of one, full at the start.
    private ClientRateLimiter OnePerTenSeconds() => new("Secrets Manager", 0.1, new RateLimitOptions { BurstSeconds = 10 }, _time);

    [Fact]
    public async Task Each_attempt_takes_a_token_and_a_retry_waiting_for_one_does_not_spend_the_retry_budget()
    {
        using var limiter = OnePerTenSeconds();
        var pipeline = RetryPipelineFactory.Create(Options, _time, () => 1);
        var run = pipeline.ExecuteAsync(
            static (_, attempts) => Interlocked.Increment(ref attempts.Value) == 1
                ? throw new SecretServiceUnavailableException("503", "sm:x", "ServiceUnavailable")
                : ValueTask.FromResult("answered"),
            new StrongBox<int>(0),
            limiter,
            "sm:x",
            CancellationToken.None).AsTask();

        // The first attempt took the one token and failed; the retry comes after 1 s and finds the bucket empty.
        Eventually.True(() => _time.ActiveTimers == 3, "the retry delay (beside the budget and the refill timers)");
        _time.Advance(TimeSpan.FromSeconds(1));
        Eventually.True(() => limiter.Queued == 1, "the retry to wait for a token");

        // 8.9 s in the queue, far past the 2.5 s budget: the budget is paused, so the retry is still waiting.
        _time.Advance(TimeSpan.FromSeconds(8.9));
        Assert.False(run.IsCompleted);

        _time.Advance(TimeSpan.FromSeconds(0.1)); // the refill at 10 s
        Assert.Equal("answered", await run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, limiter.Queued);
        Assert.False(limiter.HasTokenNow); // the retry spent the refill
    }

    [Fact]
    public async Task The_budget_resumes_after_the_wait_and_still_ends_the_call_with_what_is_left()
    {
        using var limiter = OnePerTenSeconds();
        var pipeline = RetryPipelineFactory.Create(Options, _time, () => 1);
        var attempts = new StrongBox<int>(0);
        var run = pipeline.ExecuteAsync(
            static async (context, attempts) =>
            {
                if (Interlocked.Increment(ref attempts.Value) == 1)
                {
                    throw new SecretServiceUnavailableException("503", "sm:x", "ServiceUnavailable");
                }

                await Task.Delay(Timeout.InfiniteTimeSpan, context.CancellationToken); // AWS never answers the retry
                return "never";
            },
            attempts,
            limiter,
            "sm:x",
            CancellationToken.None).AsTask();

        Eventually.True(() => _time.ActiveTimers == 3, "the retry delay");
        _time.Advance(TimeSpan.FromSeconds(1)); // 1 s of the budget spent
        Eventually.True(() => limiter.Queued == 1, "the retry to wait for a token");
        _time.Advance(TimeSpan.FromSeconds(9)); // the token, after 9 s paused
        Eventually.True(() => Volatile.Read(ref attempts.Value) == 2, "the retry to be sent");

        _time.Advance(TimeSpan.FromSeconds(1.5) - TimeSpan.FromTicks(1));
        Assert.False(run.IsCompleted);
        _time.Advance(TimeSpan.FromTicks(1)); // 2.5 s of AWS's time in all

        await Assert.ThrowsAsync<TimeoutRejectedException>(() => run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(2, attempts.Value);
    }

    [Fact]
    public async Task The_callers_token_bounds_the_wait_for_a_token()
    {
        using var limiter = OnePerTenSeconds();
        await limiter.AcquireAsync(null, CancellationToken.None); // the bucket is empty
        var pipeline = RetryPipelineFactory.Create(Options, _time, () => 1);
        using var caller = new CancellationTokenSource();
        var run = pipeline.ExecuteAsync(
            static (_, sent) => ValueTask.FromResult(Interlocked.Increment(ref sent.Value)),
            new StrongBox<int>(0),
            limiter,
            "sm:x",
            caller.Token).AsTask();

        Eventually.True(() => limiter.Queued == 1, "the first attempt to wait for a token");
        await caller.CancelAsync();

        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.IsNotType<TimeoutRejectedException>(error);
        Assert.Equal(0, limiter.Queued);
    }

    [Fact]
    public async Task A_token_refused_fail_fast_is_the_attempts_outcome_and_is_not_retried()
    {
        using var limiter = new ClientRateLimiter("Secrets Manager", 0.1, new RateLimitOptions { BurstSeconds = 10, Behavior = RateLimitBehavior.FailFast }, _time);
        await limiter.AcquireAsync(null, CancellationToken.None);
        var pipeline = RetryPipelineFactory.Create(Options, _time, () => 1);
        var sent = new StrongBox<int>(0);

        var error = await Assert.ThrowsAsync<SecretThrottledException>(() => pipeline.ExecuteAsync(
            static (_, sent) => ValueTask.FromResult(Interlocked.Increment(ref sent.Value)), sent, limiter, "sm:x", CancellationToken.None).AsTask());

        Assert.Equal(RetryPipelineFactory.ClientRateLimited, error.ErrorCode);
        Assert.Equal(0, sent.Value);
    }

    private sealed class StrongBox<T>(T value)
    {
        public T Value = value;
    }
}
