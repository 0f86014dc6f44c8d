using Polly;

namespace SecretsCache;

/// <summary>
/// Retries of throttling and transient AWS errors (the codes in AWS's retry definitions, 5xx, timeouts and connection failures),
/// with exponential backoff and full jitter. Not-found, access-denied and validation errors are never retried. This is the only
/// layer that retries: do not add a retrying handler to the HttpClient you pass in.
/// </summary>
public sealed class RetryOptions
{
    /// <summary>Retries after the first attempt. Default 3 (AWS SDK "standard" mode makes 3 attempts in all; throttling warrants one more).</summary>
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>The base of the exponential backoff. Default 100 ms.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Retries of a throttled request. Default 5.</summary>
    public int MaxThrottlingRetryAttempts { get; set; } = 5;

    /// <summary>The base of the exponential backoff after throttling. Default 1 second.</summary>
    public TimeSpan ThrottlingBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The cap of one backoff delay. Default 5 seconds.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The time budget of one call, all attempts and delays included. Default 20 seconds.</summary>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How long calls to a failing service stop. When at least half of at least 10 calls to one service in one region in
    /// 10 seconds ended in a 5xx, a timeout or a connection failure (throttling does not count), further calls fail at once
    /// with <see cref="SecretServiceUnavailableException"/> (error code <c>CircuitOpen</c>), sending nothing, for this long;
    /// then one call probes the service and decides. Readers of cached values get them stale meanwhile. Default 5 seconds;
    /// <see cref="TimeSpan.Zero"/> turns the breaker off. Not used with <see cref="Pipeline"/>.
    /// </summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Replaces the built-in pipeline. It receives every HTTP attempt and must retry only what is safe to retry; throw
    /// <see cref="SecretsCacheException"/> types pass through it.
    /// </summary>
    public ResiliencePipeline? Pipeline { get; set; }
}
