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

    /// <summary>
    /// After a snapshot restore, values fetched longer ago than this are fetched again on first read. A snapshot is stored for
    /// minutes to days, so in practice this expires what init fetched; a restore within a minute of a fetch keeps the value.
    /// </summary>
    public static readonly TimeSpan MaxAgeAfterRestore = TimeSpan.FromMinutes(1);

    /// <summary>The timeout of one HTTP attempt.</summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Retries after a transient failure: AWS SDK standard mode's 3 attempts, plus one.</summary>
    public const int MaxRetryAttempts = 3;

    /// <summary>The base of the backoff after a transient failure.</summary>
    public static readonly TimeSpan RetryBaseDelay = TimeSpan.FromMilliseconds(100);

    /// <summary>Retries after throttling: with <see cref="ThrottlingBaseDelay"/>, waits of at most 1 + 2 + 4 + 5 + 5 s.</summary>
    public const int MaxThrottlingRetryAttempts = 5;

    /// <summary>The base of the backoff after throttling, as AWS SDKs use.</summary>
    public static readonly TimeSpan ThrottlingBaseDelay = TimeSpan.FromSeconds(1);

    /// <summary>The cap of one backoff delay.</summary>
    public static readonly TimeSpan RetryMaxDelay = TimeSpan.FromSeconds(5);

    /// <summary>The budget of one call's attempts and delays.</summary>
    public static readonly TimeSpan RetryTotalTimeout = TimeSpan.FromSeconds(20);

    /// <summary>How long the circuit breaker stops calls to a failing service and region.</summary>
    public static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(5);

    /// <summary>The share of failed calls, among those sampled, that opens the circuit breaker.</summary>
    public const double BreakerFailureRatio = 0.5;

    /// <summary>How many calls the breaker must sample before it may open.</summary>
    public const int BreakerMinimumThroughput = 10;

    /// <summary>How far back the breaker samples calls.</summary>
    public static readonly TimeSpan BreakerSamplingDuration = TimeSpan.FromSeconds(10);

    /// <summary>What a request over the client-side rate limit does: it waits for a token.</summary>
    public const RateLimitBehavior RateLimitBehavior = SecretsCache.RateLimitBehavior.Wait;

    /// <summary>Whether rotation handling tries the <c>AWSPENDING</c> version when the current one is refused.</summary>
    public const bool RotationTryPendingVersion = true;

    /// <summary>Secrets Manager requests per second per process (the regional GetSecretValue quota is 10,000/s).</summary>
    public const double SecretsManagerRequestsPerSecond = 1_000;

    /// <summary>BatchGetSecretValue calls per second per process: AWS's quota.</summary>
    public const double SecretsManagerBatchRequestsPerSecond = 100;

    /// <summary>Parameter Store requests per second per process: the standard-throughput quota.</summary>
    public const double ParameterStoreRequestsPerSecond = 40;

    /// <summary>Seconds of requests a token bucket holds: a fleet then exceeds its quota by at most a tenth in any second.</summary>
    public const double BurstSeconds = 0.1;

    /// <summary>Requests that may wait per bucket before further ones fail.</summary>
    public const int QueueLimit = 10_000;

    /// <summary>How long <c>ExecuteAsync</c> keeps looking for a working credential after an authentication failure.</summary>
    public static readonly TimeSpan RotationTimeBudget = TimeSpan.FromSeconds(30);

    /// <summary>The first pause between rotation re-checks; it doubles per re-check, with jitter.</summary>
    public static readonly TimeSpan RotationRecheckDelay = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest pause between rotation re-checks: the forced-refresh interval, so each re-check can see a fresh value.</summary>
    public static readonly TimeSpan RotationMaxRecheckDelay = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The largest answer read from AWS (<see cref="AwsOptions.MaxResponseBytes"/>): above the largest answer a read can
    /// legitimately get, from the limits in the service models (shared/aws-models/*/service-2.json). JSON may escape any
    /// character of a string as <c>\u001F</c>, 6 bytes, so every string is counted at 6 bytes per character (or byte):
    /// <code>
    /// BatchGetSecretValue, one SecretValueEntry (a page holds at most 20, MaxResultsBatchType):
    ///   SecretString      65,536 (SecretStringType) x 6                                     = 393,216
    ///                     (SecretBinary instead: 65,536 as base64 = 87,384, less)
    ///   ARN 2,048 + Name 256 + VersionId 64 + VersionStages 20 x 256 = 7,488 characters x 6 =  44,928
    ///   member names, quotes, commas, CreatedDate                                           &lt;   1,000
    ///                                                                                       &lt; 439,144
    /// 20 entries 8,782,880 + NextToken 4,096 x 6 = 24,576 + the envelope                    &lt; 8,807,556 (8.4 MiB)
    /// GetParametersByPath / GetParameters: 10 parameters, each Value 8,192 (advanced tier) x 6 = 49,152
    ///   + Name, ARN, Selector, DataType (about 4,400 characters) x 6 = 26,400                &lt; 1 MiB
    /// </code>
    /// Rounded up to 9 MiB. Anything longer is not an AWS answer, and is refused before it is read further.
    /// </summary>
    public const int MaxResponseBytes = 9 * 1024 * 1024;
}
