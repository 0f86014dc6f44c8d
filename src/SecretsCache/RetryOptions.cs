using System.ComponentModel.DataAnnotations;
using static SecretsCache.Composition.OptionsValidation;

namespace SecretsCache;

/// <summary>
/// Retries of throttling and transient AWS errors (the codes in AWS's retry definitions, 5xx, timeouts and connection failures),
/// with exponential backoff and full jitter, as AWS SDKs' standard retry mode does: throttling backs off from a larger base and
/// may be retried more often, and every retry is paid for from a retry quota per service and region (500 tokens; 5 per retry
/// after throttling, 14 after other errors; a success gives back what its retry took, or one token), so a long outage or
/// throttling episode stops retries instead of multiplying the load. Not-found, access-denied and validation errors are never
/// retried. This is the only layer that retries: do not add a retrying handler to the HttpClient you pass in. Polly.Core runs
/// these retries, but no Polly type is part of this API, so a Polly major version is not a breaking change of SecretsCache.
/// </summary>
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

    /// <summary>The cap of one backoff delay. Default 5 seconds.</summary>
    public TimeSpan MaxDelay { get; set; } = Defaults.RetryMaxDelay;

    /// <summary>The time budget of one call, all attempts and delays included. Default 20 seconds.</summary>
    [Range(typeof(TimeSpan), Zero, MaxTimeSpan, MinimumIsExclusive = true, ParseLimitsInInvariantCulture = true)]
    public TimeSpan TotalTimeout { get; set; } = Defaults.RetryTotalTimeout;

    /// <summary>
    /// How long calls to a failing service stop. When at least half of at least 10 calls to one service in one region in
    /// 10 seconds ended in a 5xx, a timeout or a connection failure (throttling does not count), further calls fail at once
    /// with <see cref="SecretServiceUnavailableException"/> (error code <c>CircuitOpen</c>), sending nothing, for this long;
    /// then one call probes the service and decides. Readers of cached values get them stale meanwhile. Default 5 seconds;
    /// <see cref="TimeSpan.Zero"/> turns the breaker off.
    /// </summary>
    public TimeSpan BreakDuration { get; set; } = Defaults.BreakDuration;
}
