using System.Collections.Frozen;
using Amazon.Runtime;

namespace SecretsCache.Composition;

/// <summary>
/// <see cref="SecretsCacheOptions"/> validated once and frozen: every component reads these immutable records, never the
/// options object, so changing the options after a provider is built changes nothing (and skips no validation).
/// </summary>
internal sealed record SecretsCacheSettings(CacheSettings Cache, AwsSettings Aws, RetrySettings Retry, RateLimitSettings RateLimits)
{
    /// <summary>Validates <paramref name="options"/> (the one validation, <see cref="OptionsValidation"/>) and freezes them.</summary>
    /// <exception cref="SecretsConfigurationException">The options are invalid.</exception>
    public static SecretsCacheSettings From(SecretsCacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        OptionsValidation.ThrowIfInvalid(options);
        return new(CacheSettings.From(options), AwsSettings.From(options.Aws), RetrySettings.From(options.Retry), RateLimitSettings.From(options.RateLimits));
    }
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

/// <summary>The retry strategy and the circuit breaker, frozen.</summary>
internal sealed record RetrySettings(
    int MaxRetryAttempts,
    TimeSpan BaseDelay,
    int MaxThrottlingRetryAttempts,
    TimeSpan ThrottlingBaseDelay,
    TimeSpan MaxDelay,
    TimeSpan TotalTimeout,
    TimeSpan BreakDuration)
{
    public static RetrySettings From(RetryOptions o) => new(
        o.MaxRetryAttempts, o.BaseDelay, o.MaxThrottlingRetryAttempts, o.ThrottlingBaseDelay, o.MaxDelay, o.TotalTimeout, o.BreakDuration);
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
