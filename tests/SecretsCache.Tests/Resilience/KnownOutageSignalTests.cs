using Microsoft.Extensions.Logging.Abstractions;
using SecretsCache.Aws.Endpoints;
using SecretsCache.Composition;
using SecretsCache.Resilience;

namespace SecretsCache.Tests.Resilience;

/// <summary>
/// The signals behind answering a stale reader at once: the rate limiter's estimate of its queue wait, and the last
/// outcome per service and region (<see cref="ServiceHealth"/>). On the fake clock every estimate is exact.
/// </summary>
public sealed class KnownOutageSignalTests
{
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public async Task The_estimated_wait_is_zero_with_a_token_then_counts_the_queue_ahead_in_refills()
    {
        // 10/s with a burst of 0.1 s: one token, one refill every 100 ms.
        using var limiter = new ClientRateLimiter("Secrets Manager", 10, new RateLimitOptions { BurstSeconds = 0.1 }, _clock);
        Assert.Equal(1, limiter.TokenLimit);
        Assert.Equal(TimeSpan.Zero, limiter.EstimatedWait);

        await limiter.AcquireAsync(null, CancellationToken.None);
        Assert.Equal(TimeSpan.FromMilliseconds(100), limiter.EstimatedWait); // the next refill

        _clock.Advance(TimeSpan.FromMilliseconds(40));
        Assert.Equal(TimeSpan.FromMilliseconds(60), limiter.EstimatedWait);

        var queued = Enumerable.Range(0, 4).Select(_ => limiter.AcquireAsync(null, CancellationToken.None).AsTask()).ToList();
        Assert.Equal(4, limiter.Queued);
        Assert.Equal(TimeSpan.FromMilliseconds(60 + (4 * 100)), limiter.EstimatedWait); // four ahead, then this one

        _clock.Advance(TimeSpan.FromMilliseconds(60));
        await queued[0];
        Assert.Equal(TimeSpan.FromMilliseconds(100 + (3 * 100)), limiter.EstimatedWait); // three still ahead

        // One refill at a time: a grant's continuation re-arms the refill timer, so the clock moves on only once it has run.
        foreach (var next in queued.Skip(1))
        {
            _clock.Advance(TimeSpan.FromMilliseconds(100));
            await next;
        }

        Assert.Equal(TimeSpan.FromMilliseconds(100), limiter.EstimatedWait);
    }

    [Fact]
    public async Task Fail_fast_and_unlimited_limiters_never_keep_a_request_waiting()
    {
        using var failFast = new ClientRateLimiter("Secrets Manager", 10, new RateLimitOptions { Behavior = RateLimitBehavior.FailFast }, _clock);
        await failFast.AcquireAsync(null, CancellationToken.None);
        Assert.Equal(TimeSpan.Zero, failFast.EstimatedWait);

        using var unlimited = new ClientRateLimiter("Secrets Manager", 0, new RateLimitOptions(), _clock);
        Assert.Equal(TimeSpan.Zero, unlimited.EstimatedWait);
    }

    [Fact]
    public void A_limiter_that_cannot_estimate_says_zero()
    {
        ICallLimiter limiter = new OpaqueLimiter();
        Assert.Equal(TimeSpan.Zero, limiter.EstimatedWait);
    }

    [Fact]
    public void The_last_attempt_decides_per_service_and_region_and_an_outage_is_forgotten_after_the_memory()
    {
        var health = new ServiceHealth(_clock, TimeSpan.FromSeconds(5));
        var outage = new SecretServiceUnavailableException("503", null, "ServiceUnavailable");

        health.Record(AwsService.SecretsManager, "us-east-1", outage);
        Assert.True(health.LastAttemptFailed(AwsService.SecretsManager, "us-east-1"));
        Assert.False(health.LastAttemptFailed(AwsService.SecretsManager, "eu-west-1"));
        Assert.False(health.LastAttemptFailed(AwsService.ParameterStore, "us-east-1"));

        _clock.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromTicks(1));
        Assert.True(health.LastAttemptFailed(AwsService.SecretsManager, "us-east-1"));
        _clock.Advance(TimeSpan.FromTicks(1));
        Assert.False(health.LastAttemptFailed(AwsService.SecretsManager, "us-east-1"));

        health.Record(AwsService.SecretsManager, "us-east-1", outage);
        health.Record(AwsService.SecretsManager, "us-east-1", null);
        Assert.False(health.LastAttemptFailed(AwsService.SecretsManager, "us-east-1"));
    }

    [Fact]
    public void Answers_that_are_errors_mean_the_service_is_up_and_cancellations_say_nothing()
    {
        var health = new ServiceHealth(_clock, TimeSpan.FromSeconds(5));
        health.Record(AwsService.SecretsManager, "us-east-1", new SecretServiceUnavailableException("503", null, "ServiceUnavailable"));

        health.Record(AwsService.SecretsManager, "us-east-1", new OperationCanceledException());
        Assert.True(health.LastAttemptFailed(AwsService.SecretsManager, "us-east-1"));

        health.Record(AwsService.SecretsManager, "us-east-1", new SecretThrottledException("slow down", null, "ThrottlingException"));
        Assert.False(health.LastAttemptFailed(AwsService.SecretsManager, "us-east-1"));

        health.Record(AwsService.SecretsManager, "us-east-1", new SecretServiceUnavailableException("too large", null, RetryPipelineFactory.ResponseTooLarge));
        Assert.False(health.LastAttemptFailed(AwsService.SecretsManager, "us-east-1")); // a replica would answer as large: not an outage
    }

    [Fact]
    public void NextOutage_completes_at_the_next_outage_of_its_service_and_region_only_and_is_then_replaced()
    {
        var health = new ServiceHealth(_clock, TimeSpan.FromSeconds(5));
        var outage = new SecretServiceUnavailableException("503", null, "ServiceUnavailable");
        var next = health.NextOutage(AwsService.SecretsManager, "us-east-1");
        Assert.Same(next, health.NextOutage(AwsService.SecretsManager, "us-east-1")); // one task, shared by every waiter

        health.Record(AwsService.SecretsManager, "us-east-1", null);
        health.Record(AwsService.SecretsManager, "us-east-1", new SecretThrottledException("slow down", null, "ThrottlingException"));
        health.Record(AwsService.SecretsManager, "us-east-1", new SecretAccessDeniedException("no", null, "AccessDeniedException"));
        health.Record(AwsService.SecretsManager, "us-east-1", new SecretServiceUnavailableException("too large", null, RetryPipelineFactory.ResponseTooLarge));
        health.Record(AwsService.SecretsManager, "us-east-1", new OperationCanceledException());
        health.Record(AwsService.SecretsManager, "eu-west-1", outage);
        health.Record(AwsService.ParameterStore, "us-east-1", outage);
        Assert.False(next.IsCompleted); // answers, cancellations and other services or regions say nothing of this one

        health.Record(AwsService.SecretsManager, "us-east-1", outage);
        Assert.True(next.IsCompletedSuccessfully);
        Assert.True(health.LastAttemptFailed(AwsService.SecretsManager, "us-east-1")); // recorded before the waiters wake

        var after = health.NextOutage(AwsService.SecretsManager, "us-east-1");
        Assert.NotSame(next, after);
        Assert.False(after.IsCompleted);
    }

    [Fact]
    public async Task NextOutage_completes_when_the_breaker_of_its_service_and_region_opens()
    {
        var health = new ServiceHealth(_clock, TimeSpan.FromSeconds(5));
        var opened = new List<(AwsService, string)>();
        var options = new SecretsCacheOptions();
        options.Retry.MaxRetryAttempts = 0;
        using var policy = new CallPolicy(SecretsCacheSettings.From(options), _clock, NullLogger.Instance, breakerOpened: (service, region) =>
        {
            opened.Add((service, region));
            health.BreakerOpened(service, region);
        });
        var next = health.NextOutage(AwsService.SecretsManager, "us-east-1");
        var other = health.NextOutage(AwsService.SecretsManager, "eu-west-1");

        // Outages the health never hears of (as a call outside the AWS client): only the breaker's opening reaches it.
        var pipeline = policy.Pipeline(AwsService.SecretsManager, "us-east-1");
        for (var i = 0; i < Defaults.BreakerMinimumThroughput - 1; i++)
        {
            await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => pipeline.ExecuteAsync<int>(_ => throw new SecretServiceUnavailableException("503", null, "ServiceUnavailable")).AsTask());
        }

        Assert.False(next.IsCompleted);
        await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => pipeline.ExecuteAsync<int>(_ => throw new SecretServiceUnavailableException("503", null, "ServiceUnavailable")).AsTask());

        Assert.False(pipeline.BreakerClosed);
        Assert.Equal([(AwsService.SecretsManager, "us-east-1")], opened);
        Assert.True(next.IsCompletedSuccessfully);
        Assert.False(other.IsCompleted);
    }

    private sealed class OpaqueLimiter : ICallLimiter
    {
        public double RequestsPerSecond => 1;

        public bool HasTokenNow => false;

        public ValueTask AcquireAsync(string? reference, CancellationToken cancellationToken) => default;
    }
}
