using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace SecretsCache.Resilience;

/// <summary>
/// Builds the one retrying layer: a total time budget around exponential retries with full jitter
/// (delay = random(0, min(cap, base * 2^attempt))), on the provider's <see cref="TimeProvider"/>.
/// </summary>
internal static class RetryPipelineFactory
{
    /// <summary>The error code of a request refused by the client-side rate limit in fail-fast mode; never retried.</summary>
    public const string ClientRateLimited = "ClientRateLimited";

    /// <summary>
    /// The circuit breaker's fixed shape: it opens when at least half of at least <see cref="BreakerMinimumThroughput"/> calls
    /// in <see cref="BreakerSamplingDuration"/> ended in an outage error (5xx, timeout, connection failure), for
    /// <see cref="RetryOptions.BreakDuration"/>. Throttling never opens it: the quota is the rate limiter's business.
    /// </summary>
    public const int BreakerMinimumThroughput = 10;

    public static readonly TimeSpan BreakerSamplingDuration = TimeSpan.FromSeconds(10);

    /// <summary>The built-in pipeline: a total time budget, then retries, then (innermost, so it sees every attempt) the breaker
    /// when <paramref name="breakerState"/> is given and <see cref="RetryOptions.BreakDuration"/> is not zero.</summary>
    public static ResiliencePipeline Create(
        RetryOptions options,
        TimeProvider timeProvider,
        Func<double>? random = null,
        CircuitBreakerStateProvider? breakerState = null,
        Action? onOpened = null,
        Action? onClosed = null)
    {
        if (options.Pipeline is not null)
        {
            return options.Pipeline;
        }

#pragma warning disable CA5394 // Jitter, not security.
        var next = random ?? Random.Shared.NextDouble;
#pragma warning restore CA5394
        var builder = new ResiliencePipelineBuilder { TimeProvider = timeProvider };
        builder.AddTimeout(new TimeoutStrategyOptions { Timeout = options.TotalTimeout });
        if (options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetryAttempts,
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Exception is { } error && IsRetryable(error)),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(FullJitter(options.BaseDelay, options.MaxDelay, args.AttemptNumber, next())),
            });
        }

        if (breakerState is not null && options.BreakDuration > TimeSpan.Zero)
        {
            builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = 0.5,
                MinimumThroughput = BreakerMinimumThroughput,
                SamplingDuration = BreakerSamplingDuration,
                BreakDuration = options.BreakDuration,
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Exception is { } error && IsOutage(error)),
                StateProvider = breakerState,
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

        return builder.Build();
    }

    /// <summary>What counts against the breaker: the service failing (5xx, timeouts, connection failures), not throttling or a bad request.</summary>
    public static bool IsOutage(Exception error) => error is SecretServiceUnavailableException;

    public static bool IsBreakerOpen(Exception error) => error is BrokenCircuitException;

    /// <summary>Throttling and transient failures are retried; not-found, access-denied, validation and fail-fast rate limiting never are.</summary>
    public static bool IsRetryable(Exception error) => error switch
    {
        SecretThrottledException { ErrorCode: ClientRateLimited } => false,
        SecretsCacheException { IsTransient: true } => true,
        _ => false,
    };

    public static TimeSpan FullJitter(TimeSpan baseDelay, TimeSpan maxDelay, int attempt, double random)
    {
        var ceiling = Math.Min(maxDelay.TotalMilliseconds, baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30)));
        return TimeSpan.FromMilliseconds(ceiling * random);
    }

    public static bool IsBudgetExhausted(Exception error) => error is TimeoutRejectedException;
}
