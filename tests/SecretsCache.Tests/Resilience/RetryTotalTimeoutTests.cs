using Polly.Timeout;
using SecretsCache.Resilience;
using SecretsCache.Tests.Fakes;
using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Resilience;

/// <summary><see cref="RetryOptions.TotalTimeout"/> bounds one call, attempts and delays together: it stops retries that are still allowed.</summary>
public sealed class RetryTotalTimeoutTests
{
    private readonly FakeTimeProvider _time = new();

    // Ten retries allowed, one second apart (jitter pinned to its maximum), within a budget of 2.5 s.
    private static readonly RetryOptions Options = new()
    {
        MaxRetryAttempts = 10,
        BaseDelay = TimeSpan.FromSeconds(1),
        MaxDelay = TimeSpan.FromSeconds(1),
        TotalTimeout = TimeSpan.FromSeconds(2.5),
        BreakDuration = TimeSpan.Zero,
    };

    [Fact]
    public async Task The_budget_stops_retries_of_failing_attempts_long_before_MaxRetryAttempts()
    {
        var pipeline = RetryPipelineFactory.Create(Options, _time, () => 1);
        var attempts = 0;
        var run = pipeline.ExecuteAsync<int>(_ =>
        {
            Interlocked.Increment(ref attempts);
            throw new SecretServiceUnavailableException("503", "sm:x", "ServiceUnavailable");
        }).AsTask();

        // Attempts at 0, 1 and 2 s; the retry due at 3 s is never made: the budget ends at 2.5 s, during its delay.
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            Eventually.True(() => _time.ActiveTimers == 2, $"the retry delay after attempt {attempt}"); // the budget's timer and the delay
            Assert.Equal(attempt, Volatile.Read(ref attempts));
            _time.Advance(attempt < 3 ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(0.5));
        }

        await Assert.ThrowsAsync<TimeoutRejectedException>(() => run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(3, attempts);
        Assert.Equal(TimeSpan.FromSeconds(2.5), _time.GetUtcNow() - _time.Start);
        Assert.Equal(0, _time.ActiveTimers);
    }

    [Fact]
    public async Task The_budget_cancels_an_attempt_under_way_and_nothing_is_retried_after_it()
    {
        var pipeline = RetryPipelineFactory.Create(Options, _time, () => 1);
        var attempts = 0;
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = pipeline.ExecuteAsync<int>(async token =>
        {
            if (Interlocked.Increment(ref attempts) < 3)
            {
                throw new SecretThrottledException("slow down", "sm:x", "ThrottlingException");
            }

            // The third attempt hangs (AWS does not answer) until the budget cancels it.
            await using var registration = token.Register(() => cancelled.TrySetResult());
            await Task.Delay(Timeout.InfiniteTimeSpan, _time, token);
            return 0;
        }).AsTask();

        for (var attempt = 1; attempt <= 2; attempt++)
        {
            Eventually.True(() => _time.ActiveTimers == 2, $"the retry delay after attempt {attempt}");
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Eventually.True(() => Volatile.Read(ref attempts) == 3, "the third attempt to start");
        _time.Advance(TimeSpan.FromSeconds(0.5) - TimeSpan.FromTicks(1));
        Assert.False(cancelled.Task.IsCompleted);
        _time.Advance(TimeSpan.FromTicks(1));

        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await Assert.ThrowsAsync<TimeoutRejectedException>(() => run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(3, attempts);
    }

    [Fact]
    public void The_budget_is_what_IsBudgetExhausted_recognises()
    {
        // AwsJsonClient maps exactly this exception to SecretServiceUnavailableException("RetryBudgetExhausted") naming the budget.
        Assert.True(RetryPipelineFactory.IsBudgetExhausted(new TimeoutRejectedException()));
        Assert.False(RetryPipelineFactory.IsBudgetExhausted(new OperationCanceledException()));
        Assert.False(RetryPipelineFactory.IsBudgetExhausted(new SecretServiceUnavailableException("503", "sm:x", "ServiceUnavailable")));
    }
}
