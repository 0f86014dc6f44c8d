using SecretsCache.Resilience;

namespace SecretsCache.Tests.Resilience;

/// <summary>
/// The client-side token bucket: a burst of one second's worth, then wait or fail fast, never a silent drop. Rates are chosen so
/// low (one token per 100 s) that no refill can happen during a test, which keeps these tests free of timing.
/// </summary>
public sealed class ClientRateLimiterTests
{
    private const double OnePerHundredSeconds = 0.01;

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
        using var limiter = new ClientRateLimiter("Secrets Manager", OnePerHundredSeconds, new RateLimitOptions());
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
        using var limiter = new ClientRateLimiter("Secrets Manager", OnePerHundredSeconds, new RateLimitOptions { QueueLimit = 1 });
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
}
