using System.Collections.Frozen;
using Amazon.Runtime;
using SecretsCache.Restore;
using SecretsCache.Aws.Endpoints;

namespace SecretsCache.Composition;

/// <summary>
/// <see cref="SecretsCacheOptions"/> validated once and frozen: every component reads these immutable records, never the
/// options object, so changing the options after a provider is built changes nothing (and skips no validation).
/// </summary>
internal sealed record SecretsCacheSettings(CacheSettings Cache, AwsSettings Aws, RetrySettings Retry, RateLimitSettings RateLimits)
{
    /// <summary><see cref="Retry"/> with <see cref="RetryOptions.SecretsManager"/>'s overrides.</summary>
    public RetrySettings SecretsManagerRetry { get; init; } = Retry;

    /// <summary><see cref="Retry"/> with <see cref="RetryOptions.ParameterStore"/>'s overrides.</summary>
    public RetrySettings ParameterStoreRetry { get; init; } = Retry;

    /// <summary>The retry and breaker settings in force for <paramref name="service"/>.</summary>
    public RetrySettings RetryFor(AwsService service) =>
        service == AwsService.ParameterStore ? ParameterStoreRetry : SecretsManagerRetry;

    /// <summary>Validates <paramref name="options"/> (the one validation, <see cref="OptionsValidation"/>) and freezes them.</summary>
    /// <exception cref="SecretsConfigurationException">The options are invalid.</exception>
    public static SecretsCacheSettings From(SecretsCacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        OptionsValidation.ThrowIfInvalid(options);
        return new(CacheSettings.From(options), AwsSettings.From(options.Aws), RetrySettings.From(options.Retry), RateLimitSettings.From(options.RateLimits))
        {
            Snapshot = SnapshotSettings.From(options.Snapshot),
            SecretsManagerRetry = RetrySettings.From(options.Retry, options.Retry.SecretsManager),
            ParameterStoreRetry = RetrySettings.From(options.Retry, options.Retry.ParameterStore),
        };
    }

    /// <summary>What the snapshot-restore hook does to cached values.</summary>
    public SnapshotSettings Snapshot { get; init; } = SnapshotSettings.Default;
}

/// <summary>What the cache engine reads: TTLs (per canonical key), staleness, backoff, the size bound and the fetch budget.</summary>
internal sealed record CacheSettings(
    TimeSpan DefaultTtl,
    FrozenDictionary<string, TimeSpan> TtlByKey,
    double TtlJitter,
    double RefreshAheadFraction,
    TimeSpan MaxStaleness,
    TimeSpan StaleFallbackTimeout,
    TimeSpan NegativeTtl,
    int MaxEntries,
    TimeSpan FailureBackoff,
    TimeSpan MaxFailureBackoff,
    TimeSpan FetchTimeout,
    TimeSpan MinForcedRefreshInterval,
    bool IncludeNamesInTelemetry)
{
    /// <summary>Freezes already validated options (a TTL of a reference is keyed by its canonical text).</summary>
    public static CacheSettings From(SecretsCacheOptions o) => new(
        o.DefaultTtl,
        TtlsByKey(o.TtlByReference),
        o.TtlJitter,
        o.RefreshAheadFraction,
        o.MaxStaleness,
        o.StaleFallbackTimeout,
        o.NegativeTtl,
        o.MaxEntries,
        o.FailureBackoff,
        o.MaxFailureBackoff,
        o.FetchTimeout,
        o.MinForcedRefreshInterval,
        o.IncludeNamesInTelemetry);

    // Validation allows two spellings of one reference only when their TTLs agree.
    private static FrozenDictionary<string, TimeSpan> TtlsByKey(IDictionary<string, TimeSpan> byReference)
    {
        var byKey = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        foreach (var (text, ttl) in byReference)
        {
            byKey[SecretReference.Parse(text).CanonicalText] = ttl;
        }

        return byKey.ToFrozenDictionary(StringComparer.Ordinal);
    }
}

/// <summary>How to reach AWS, frozen.</summary>
internal sealed record AwsSettings(
    string? Region,
    AWSCredentials? Credentials,
    string? Profile,
    string? ProfilesLocation,
    string? ServiceUrl,
    string? SecretsManagerServiceUrl,
    string? ParameterStoreServiceUrl,
    bool UseFips,
    bool UseDualStack,
    bool VersionAwareRefresh,
    TimeSpan AttemptTimeout,
    int MaxResponseBytes,
    IReadOnlyList<string> FailoverRegions)
{
    public static AwsSettings From(AwsOptions o) => new(
        o.Region, o.Credentials, o.Profile, o.ProfilesLocation, o.ServiceUrl, o.SecretsManagerServiceUrl, o.ParameterStoreServiceUrl,
        o.UseFips, o.UseDualStack, o.VersionAwareRefresh, o.AttemptTimeout, o.MaxResponseBytes, o.FailoverRegions.ToArray());
}

/// <summary>The retry strategy and the circuit breaker of one service, frozen.</summary>
internal sealed record RetrySettings(
    int MaxRetryAttempts,
    TimeSpan BaseDelay,
    int MaxThrottlingRetryAttempts,
    TimeSpan ThrottlingBaseDelay,
    TimeSpan MaxDelay,
    TimeSpan TotalTimeout,
    TimeSpan BreakDuration,
    double BreakerFailureRatio,
    int BreakerMinimumThroughput,
    TimeSpan BreakerSamplingDuration)
{
    /// <summary>The values shared by both services.</summary>
    public static RetrySettings From(RetryOptions o) => new(
        o.MaxRetryAttempts, o.BaseDelay, o.MaxThrottlingRetryAttempts, o.ThrottlingBaseDelay, o.MaxDelay, o.TotalTimeout, o.BreakDuration,
        o.BreakerFailureRatio, o.BreakerMinimumThroughput, o.BreakerSamplingDuration);

    /// <summary>One service's values: each override that is set, else the shared value.</summary>
    public static RetrySettings From(RetryOptions o, ServiceRetryOptions service) => new(
        service.MaxRetryAttempts ?? o.MaxRetryAttempts,
        service.BaseDelay ?? o.BaseDelay,
        service.MaxThrottlingRetryAttempts ?? o.MaxThrottlingRetryAttempts,
        service.ThrottlingBaseDelay ?? o.ThrottlingBaseDelay,
        service.MaxDelay ?? o.MaxDelay,
        service.TotalTimeout ?? o.TotalTimeout,
        service.BreakDuration ?? o.BreakDuration,
        service.BreakerFailureRatio ?? o.BreakerFailureRatio,
        service.BreakerMinimumThroughput ?? o.BreakerMinimumThroughput,
        service.BreakerSamplingDuration ?? o.BreakerSamplingDuration);
}

/// <summary>The client-side token buckets, frozen.</summary>
internal sealed record RateLimitSettings(
    double SecretsManagerRequestsPerSecond,
    double SecretsManagerBatchRequestsPerSecond,
    double ParameterStoreRequestsPerSecond,
    double BurstSeconds,
    RateLimitBehavior Behavior,
    int QueueLimit)
{
    public static RateLimitSettings From(RateLimitOptions o) => new(
        o.SecretsManagerRequestsPerSecond, o.SecretsManagerBatchRequestsPerSecond, o.ParameterStoreRequestsPerSecond, o.BurstSeconds, o.Behavior, o.QueueLimit);
}
