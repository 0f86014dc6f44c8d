using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;
using SecretsCache.Composition;

namespace SecretsCache.Resilience;

/// <summary>
/// Builds the one retrying layer: a total time budget (<see cref="RetryBudget"/>) around exponential retries with full jitter
/// (delay = random(0, min(cap, base * 2^attempt))), on the provider's <see cref="TimeProvider"/>. As in AWS SDKs' standard
/// retry mode, throttling backs off from a larger base than other transient errors, and every retry is paid for from a
/// <see cref="RetryQuota"/> per service and region; both are decided inside the one Polly retry strategy.
/// </summary>
internal static class RetryPipelineFactory
{
    /// <summary>The error code of a request refused by the client-side rate limit in fail-fast mode; never retried.</summary>
    public const string ClientRateLimited = "ClientRateLimited";

    /// <summary>The error code of an answer over <see cref="AwsOptions.MaxResponseBytes"/>; never retried (the same request would get the same answer).</summary>
    public const string ResponseTooLarge = "ResponseTooLarge";

    /// <summary>
    /// Set on a call that has another region to fail over to: an outage is then not retried in this region but ends the
    /// call at once, so the read moves to the next region within one attempt (throttling is still retried here).
    /// </summary>
    public static readonly ResiliencePropertyKey<bool> FailsOver = new("SecretsCache.FailsOver");

    /// <summary>What the last retry of one call took from the quota, so that its success can give it back.</summary>
    private static readonly ResiliencePropertyKey<int> LastRetryCost = new("SecretsCache.RetryCost");

    /// <summary>The built-in pipeline: a total time budget, then retries, then a rate-limit token per attempt
    /// (<see cref="RateLimitStage"/>), then (innermost, so it sees every attempt) the breaker when
    /// <paramref name="breakerState"/> is given and <see cref="RetryOptions.BreakDuration"/> is not zero.</summary>
    public static CallPipeline Create(
        RetryOptions options,
        TimeProvider timeProvider,
        Func<double>? random = null,
        CircuitBreakerStateProvider? breakerState = null,
        Action? onOpened = null,
        Action? onClosed = null) =>
        Create(RetrySettings.From(options), timeProvider, random, breakerState, onOpened, onClosed);

    /// <inheritdoc cref="Create(RetryOptions, TimeProvider, Func{double}?, CircuitBreakerStateProvider?, Action?, Action?)"/>
    public static CallPipeline Create(
        RetrySettings options,
        TimeProvider timeProvider,
        Func<double>? random = null,
        CircuitBreakerStateProvider? breakerState = null,
        Action? onOpened = null,
        Action? onClosed = null)
    {
#pragma warning disable CA5394 // Jitter, not security.
        var next = random ?? Random.Shared.NextDouble;
#pragma warning restore CA5394
        var builder = new ResiliencePipelineBuilder { TimeProvider = timeProvider };
        var quota = new RetryQuota();
        var mostRetries = Math.Max(options.MaxRetryAttempts, options.MaxThrottlingRetryAttempts);
        if (mostRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = mostRetries,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(options, quota, args.Outcome.Exception, args.AttemptNumber, args.Context)),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(Delay(options, args.Outcome.Exception, args.AttemptNumber, next())),
            });
        }

        // Outside the breaker: a call the open circuit refuses has still taken its token, as every request does.
        builder.AddStrategy(static _ => new RateLimitStage());

        var breaker = breakerState is not null && options.BreakDuration > TimeSpan.Zero ? breakerState : null;
        if (breaker is not null)
        {
            builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                // It opens when BreakerFailureRatio of at least BreakerMinimumThroughput calls in BreakerSamplingDuration ended
                // in an outage error (5xx, timeout, connection failure). Throttling never opens it: the quota is the rate limiter's.
                FailureRatio = options.BreakerFailureRatio,
                MinimumThroughput = options.BreakerMinimumThroughput,
                SamplingDuration = options.BreakerSamplingDuration,
                BreakDuration = options.BreakDuration,
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Exception is { } error && IsOutage(error)),
                StateProvider = breaker,
                OnOpened = _ =>
                {
                    onOpened?.Invoke();
                    return default;
                },
                OnClosed = _ =>
                {
                    onClosed?.Invoke();
                    return default;
                },
            });
        }

        return new CallPipeline(builder.Build(), options.TotalTimeout, timeProvider, breaker);
    }

    /// <summary>What counts against the breaker: the service failing (5xx, timeouts, connection failures), not throttling or a bad request.</summary>
    public static bool IsOutage(Exception error) => error is SecretServiceUnavailableException;

    public static bool IsBreakerOpen(Exception error) => error is BrokenCircuitException;

    /// <summary>Throttling and transient failures are retried; not-found, access-denied, validation, fail-fast rate limiting and oversized answers never are.</summary>
    public static bool IsRetryable(Exception error) => error switch
    {
        SecretThrottledException { ErrorCode: ClientRateLimited } => false,
        SecretServiceUnavailableException { ErrorCode: ResponseTooLarge } => false,
        SecretsCacheException { IsTransient: true } => true,
        _ => false,
    };

    /// <summary>
    /// Whether the attempt that ended in <paramref name="error"/> is retried: a retryable error, within its kind's attempt
    /// count, paid for from the quota. A success (<paramref name="error"/> null) gives the quota back what its last retry took.
    /// </summary>
    private static bool ShouldRetry(RetrySettings options, RetryQuota quota, Exception? error, int attempt, ResilienceContext context)
    {
        if (error is null)
        {
            quota.Release(context.Properties.GetValue(LastRetryCost, 0));
            return false;
        }

        var limit = error is SecretThrottledException ? options.MaxThrottlingRetryAttempts : options.MaxRetryAttempts;
        if (!IsRetryable(error) || attempt >= limit || (RegionFailover.IsOutage(error) && context.Properties.GetValue(FailsOver, false)))
        {
            return false;
        }

        var cost = RetryQuota.CostOf(error);
        if (!quota.TryAcquire(cost))
        {
            return false;
        }

        context.Properties.Set(LastRetryCost, cost);
        return true;
    }

    /// <summary>Full jitter from <see cref="RetryOptions.ThrottlingBaseDelay"/> after throttling, else from <see cref="RetryOptions.BaseDelay"/>.</summary>
    public static TimeSpan Delay(RetrySettings options, Exception? error, int attempt, double random) =>
        FullJitter(error is SecretThrottledException ? options.ThrottlingBaseDelay : options.BaseDelay, options.MaxDelay, attempt, random);

    public static TimeSpan FullJitter(TimeSpan baseDelay, TimeSpan maxDelay, int attempt, double random)
    {
        var ceiling = Math.Min(maxDelay.TotalMilliseconds, baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30)));
        return TimeSpan.FromMilliseconds(ceiling * random);
    }

    public static bool IsBudgetExhausted(Exception error) => error is TimeoutRejectedException;
}
