namespace SecretsCache;

/// <summary>Every default value in one place. Options start from these; the README's option table quotes them.</summary>
internal static class Defaults
{
    /// <summary>How long a value is fresh. AWS's own caching client uses one hour; five minutes bounds how long a rotated value goes unseen.</summary>
    public static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);

    /// <summary>Up to this fraction is taken off each TTL at random, so a fleet started together does not refresh together.</summary>
    public const double TtlJitter = 0.1;

    /// <summary>A hit after this fraction of the TTL starts one background refresh.</summary>
    public const double RefreshAheadFraction = 0.8;

    /// <summary>How long after expiry a last good value may still be served while the backend fails.</summary>
    public static readonly TimeSpan MaxStaleness = TimeSpan.FromHours(1);

    /// <summary>How long a caller with a stale value waits on a refresh before being handed the stale value.</summary>
    public static readonly TimeSpan StaleFallbackTimeout = TimeSpan.FromSeconds(1);

    /// <summary>How long a not-found answer is cached.</summary>
    public static readonly TimeSpan NegativeTtl = TimeSpan.FromSeconds(30);

    /// <summary>The most entries the cache holds before evicting the least recently used.</summary>
    public const int MaxEntries = 10_000;

    /// <summary>The first pause after a failed fetch of a key; it doubles per failure, with jitter.</summary>
    public static readonly TimeSpan FailureBackoff = TimeSpan.FromSeconds(1);

    /// <summary>The longest pause between fetch attempts of a failing key.</summary>
    public static readonly TimeSpan MaxFailureBackoff = TimeSpan.FromMinutes(1);

    /// <summary>The time budget of one shared fetch, retries included.</summary>
    public static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The least time between two forced refreshes (<see cref="ISecretProvider.RefreshAsync"/>, rotation re-fetches) of one reference.
    /// A credential that is simply wrong then costs at most one backend call per reference per interval, whatever the load.
    /// </summary>
    public static readonly TimeSpan MinForcedRefreshInterval = TimeSpan.FromSeconds(5);

    /// <summary>How long <c>ExecuteAsync</c> keeps looking for a working credential after an authentication failure.</summary>
    public static readonly TimeSpan RotationTimeBudget = TimeSpan.FromSeconds(30);

    /// <summary>The first pause between rotation re-checks; it doubles per re-check, with jitter.</summary>
    public static readonly TimeSpan RotationRecheckDelay = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest pause between rotation re-checks: the forced-refresh interval, so each re-check can see a fresh value.</summary>
    public static readonly TimeSpan RotationMaxRecheckDelay = TimeSpan.FromSeconds(5);

    /// <summary>The largest answer read from AWS. See <see cref="AwsOptions.MaxResponseBytes"/>.</summary>
    public const int MaxResponseBytes = 9 * 1024 * 1024;
}
