using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using static SecretsCache.Composition.OptionsValidation;

namespace SecretsCache;

/// <summary>
/// Retries of throttling and transient AWS errors (the codes in AWS's retry definitions, 5xx, timeouts and connection failures),
/// with exponential backoff and full jitter, as AWS SDKs' standard retry mode does: throttling backs off from a larger base and
/// may be retried more often, and every retry is paid for from a retry quota per service and region (500 tokens; 5 per retry
/// after throttling, 14 after other errors; a success gives back what its retry took, or one token), so a long outage or
/// throttling episode stops retries instead of multiplying the load. Not-found, access-denied and validation errors are never
/// retried. This is the only layer that retries: do not add a retrying handler to the HttpClient you pass in. Polly.Core runs
/// these retries and the circuit breaker, but no Polly type is part of this API (there is no pipeline hook), so a Polly major
/// version is not a breaking change of SecretsCache.
/// </summary>
/// <remarks>
/// These values apply to both services; <see cref="SecretsManager"/> and <see cref="ParameterStore"/> override any of them for
/// one service (Parameter Store's quotas and outages are its own). Each service and region has its own retry quota and breaker.
/// </remarks>
[System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026:RequiresUnreferencedCode", Justification = Composition.OptionsValidation.TimeSpanRangeIsNeverConstructed)]
public sealed class RetryOptions
{
    /// <summary>Retries after a transient failure (5xx, timeout, connection failure). Default 3, as AWS SDK standard mode (3 attempts) plus one.</summary>
    [Range(0, 20)]
    public int MaxRetryAttempts { get; set; } = Defaults.MaxRetryAttempts;

    /// <summary>The base of the exponential backoff after a transient failure. Default 100 ms.</summary>
    [Range(typeof(TimeSpan), Zero, MaxTimeSpan, MinimumIsExclusive = true, ParseLimitsInInvariantCulture = true)]
    public TimeSpan BaseDelay { get; set; } = Defaults.RetryBaseDelay;

    /// <summary>
    /// Retries after throttling. Default 5: with <see cref="ThrottlingBaseDelay"/> they wait at most 1 + 2 + 4 + 5 + 5 s, inside
    /// <see cref="TotalTimeout"/>, long enough for a per-second quota to refill for a burst of callers.
    /// </summary>
    [Range(0, 20)]
    public int MaxThrottlingRetryAttempts { get; set; } = Defaults.MaxThrottlingRetryAttempts;

    /// <summary>The base of the exponential backoff after throttling (capped by <see cref="MaxDelay"/>). Default 1 second, as AWS SDKs use.</summary>
    [Range(typeof(TimeSpan), Zero, MaxTimeSpan, MinimumIsExclusive = true, ParseLimitsInInvariantCulture = true)]
    public TimeSpan ThrottlingBaseDelay { get; set; } = Defaults.ThrottlingBaseDelay;

    /// <summary>The cap of one backoff delay (at least <see cref="BaseDelay"/>). Default 5 seconds.</summary>
    public TimeSpan MaxDelay { get; set; } = Defaults.RetryMaxDelay;

    /// <summary>The time budget of one call, all attempts and delays included. Default 20 seconds.</summary>
    [Range(typeof(TimeSpan), Zero, MaxTimeSpan, MinimumIsExclusive = true, ParseLimitsInInvariantCulture = true)]
    public TimeSpan TotalTimeout { get; set; } = Defaults.RetryTotalTimeout;

    /// <summary>
    /// How long calls to a failing service stop. When at least <see cref="BreakerFailureRatio"/> of at least
    /// <see cref="BreakerMinimumThroughput"/> calls to one service in one region in <see cref="BreakerSamplingDuration"/> ended
    /// in a 5xx, a timeout or a connection failure (throttling does not count), further calls fail at once with
    /// <see cref="SecretServiceUnavailableException"/> (error code <c>CircuitOpen</c>), sending nothing, for this long; then one
    /// call probes the service and decides. Readers of cached values get them stale meanwhile. Default 5 seconds;
    /// <see cref="TimeSpan.Zero"/> turns the breaker off; otherwise between 0.5 seconds and 1 day.
    /// </summary>
    public TimeSpan BreakDuration { get; set; } = Defaults.BreakDuration;

    /// <summary>The share of sampled calls that must have failed for the breaker to open: above 0, at most 1. Default 0.5.</summary>
    [Range(0d, 1d, MinimumIsExclusive = true)]
    public double BreakerFailureRatio { get; set; } = Defaults.BreakerFailureRatio;

    /// <summary>How many calls the breaker must have sampled before it may open: at least 2. Default 10.</summary>
    [Range(2, int.MaxValue)]
    public int BreakerMinimumThroughput { get; set; } = Defaults.BreakerMinimumThroughput;

    /// <summary>How far back the breaker samples calls: between 0.5 seconds and 1 day. Default 10 seconds.</summary>
    [Range(typeof(TimeSpan), HalfASecond, OneDay, ParseLimitsInInvariantCulture = true)]
    public TimeSpan BreakerSamplingDuration { get; set; } = Defaults.BreakerSamplingDuration;

    /// <summary>Overrides for Secrets Manager calls (GetSecretValue, BatchGetSecretValue, DescribeSecret); unset values are the ones above.</summary>
    [ValidateObjectMembers]
    public ServiceRetryOptions SecretsManager { get; } = new();

    /// <summary>Overrides for Parameter Store calls; unset values are the ones above.</summary>
    [ValidateObjectMembers]
    public ServiceRetryOptions ParameterStore { get; } = new();
}

/// <summary>
/// Retry and circuit-breaker settings of one service, each overriding the <see cref="RetryOptions"/> value of the same name
/// when set (for example <c>SecretsCache:Retry:ParameterStore:BreakerMinimumThroughput</c> in configuration). The same rules
/// hold for the values in force as for <see cref="RetryOptions"/>.
/// </summary>
[System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026:RequiresUnreferencedCode", Justification = Composition.OptionsValidation.TimeSpanRangeIsNeverConstructed)]
public sealed class ServiceRetryOptions
{
    /// <inheritdoc cref="RetryOptions.MaxRetryAttempts"/>
    [Range(0, 20)]
    public int? MaxRetryAttempts { get; set; }

    /// <inheritdoc cref="RetryOptions.BaseDelay"/>
    [Range(typeof(TimeSpan), Zero, MaxTimeSpan, MinimumIsExclusive = true, ParseLimitsInInvariantCulture = true)]
    public TimeSpan? BaseDelay { get; set; }

    /// <inheritdoc cref="RetryOptions.MaxThrottlingRetryAttempts"/>
    [Range(0, 20)]
    public int? MaxThrottlingRetryAttempts { get; set; }

    /// <inheritdoc cref="RetryOptions.ThrottlingBaseDelay"/>
    [Range(typeof(TimeSpan), Zero, MaxTimeSpan, MinimumIsExclusive = true, ParseLimitsInInvariantCulture = true)]
    public TimeSpan? ThrottlingBaseDelay { get; set; }

    /// <inheritdoc cref="RetryOptions.MaxDelay"/>
    public TimeSpan? MaxDelay { get; set; }

    /// <inheritdoc cref="RetryOptions.TotalTimeout"/>
    [Range(typeof(TimeSpan), Zero, MaxTimeSpan, MinimumIsExclusive = true, ParseLimitsInInvariantCulture = true)]
    public TimeSpan? TotalTimeout { get; set; }

    /// <inheritdoc cref="RetryOptions.BreakDuration"/>
    public TimeSpan? BreakDuration { get; set; }

    /// <inheritdoc cref="RetryOptions.BreakerFailureRatio"/>
    [Range(0d, 1d, MinimumIsExclusive = true)]
    public double? BreakerFailureRatio { get; set; }

    /// <inheritdoc cref="RetryOptions.BreakerMinimumThroughput"/>
    [Range(2, int.MaxValue)]
    public int? BreakerMinimumThroughput { get; set; }

    /// <inheritdoc cref="RetryOptions.BreakerSamplingDuration"/>
    [Range(typeof(TimeSpan), HalfASecond, OneDay, ParseLimitsInInvariantCulture = true)]
    public TimeSpan? BreakerSamplingDuration { get; set; }
}
