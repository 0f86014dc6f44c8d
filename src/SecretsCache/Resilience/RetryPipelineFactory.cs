using Polly;
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

    public static ResiliencePipeline Create(RetryOptions options, TimeProvider timeProvider, Func<double>? random = null)
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
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(FullJitter(options, args.AttemptNumber, next())),
            });
        }

        return builder.Build();
    }

    /// <summary>Throttling and transient failures are retried; not-found, access-denied, validation and fail-fast rate limiting never are.</summary>
    public static bool IsRetryable(Exception error) => error switch
    {
        SecretThrottledException { ErrorCode: ClientRateLimited } => false,
        SecretsCacheException { IsTransient: true } => true,
        _ => false,
    };

    public static TimeSpan FullJitter(RetryOptions options, int attempt, double random)
    {
        var ceiling = Math.Min(options.MaxDelay.TotalMilliseconds, options.BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30)));
        return TimeSpan.FromMilliseconds(ceiling * random);
    }

    public static bool IsBudgetExhausted(Exception error) => error is TimeoutRejectedException;
}
