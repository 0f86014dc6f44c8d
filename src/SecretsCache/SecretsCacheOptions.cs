namespace SecretsCache;

/// <summary>
/// Settings of a <see cref="SecretProvider"/>. Every default is safe for production; see the README's option table.
/// </summary>
public sealed class SecretsCacheOptions
{
    // The longest delay a timer (and so a CancellationTokenSource timeout) accepts: uint.MaxValue - 1 ms, about 49.7 days.
    private static readonly TimeSpan MaxTimerDuration = TimeSpan.FromMilliseconds(uint.MaxValue - 1.0);

    /// <summary>How long a fetched value is fresh. Default 5 minutes.</summary>
    public TimeSpan DefaultTtl { get; set; } = Defaults.Ttl;

    /// <summary>TTLs for particular references, keyed by reference text (any spelling of the reference).</summary>
    public IDictionary<string, TimeSpan> TtlByReference { get; } = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);

    /// <summary>Up to this fraction (0 to 0.5) is taken off each TTL at random, spreading a fleet's refreshes. Default 0.1.</summary>
    public double TtlJitter { get; set; } = Defaults.TtlJitter;

    /// <summary>
    /// A hit after this fraction of the TTL (above 0, up to 1) starts one background refresh and returns the current value at once.
    /// 1 turns refresh-ahead off. Default 0.8.
    /// </summary>
    public double RefreshAheadFraction { get; set; } = Defaults.RefreshAheadFraction;

    /// <summary>How long past its expiry a last good value may be served while refreshes fail with transient errors. Zero turns serve-stale off. Default 1 hour.</summary>
    public TimeSpan MaxStaleness { get; set; } = Defaults.MaxStaleness;

    /// <summary>How long a caller holding a usable stale value waits on a slow refresh before getting the stale value. Default 1 second.</summary>
    public TimeSpan StaleFallbackTimeout { get; set; } = Defaults.StaleFallbackTimeout;

    /// <summary>How long a not-found answer is cached. Default 30 seconds.</summary>
    public TimeSpan NegativeTtl { get; set; } = Defaults.NegativeTtl;

    /// <summary>The most entries held; past it, the least recently used are evicted. Default 10,000.</summary>
    public int MaxEntries { get; set; } = Defaults.MaxEntries;

    /// <summary>The first pause before a failing key is fetched again; it doubles per failure, with jitter. Default 1 second.</summary>
    public TimeSpan FailureBackoff { get; set; } = Defaults.FailureBackoff;

    /// <summary>The cap on the pause between fetches of a failing key. Default 1 minute.</summary>
    public TimeSpan MaxFailureBackoff { get; set; } = Defaults.MaxFailureBackoff;

    /// <summary>The time budget of one backend fetch, its retries included. Default 30 seconds.</summary>
    public TimeSpan FetchTimeout { get; set; } = Defaults.FetchTimeout;

    /// <summary>
    /// The least time between two forced refreshes of one reference (<see cref="ISecretProvider.RefreshAsync"/> and the rotation
    /// re-fetch of <c>ExecuteAsync</c>). A forced refresh inside the interval joins the fetch under way or returns the cached value
    /// without calling AWS, so a wrong credential cannot flood the backend however many callers fail. Zero turns the limit off.
    /// Default 5 seconds.
    /// </summary>
    public TimeSpan MinForcedRefreshInterval { get; set; } = Defaults.MinForcedRefreshInterval;

    /// <summary>
    /// Whether metric and activity tags may carry secret and parameter names (never values), and <see cref="Secret.GetJson{T}"/>
    /// errors the JSON path (which for a dictionary-shaped secret names its keys). Off by default because names can be
    /// sensitive and make tags high-cardinality.
    /// </summary>
    public bool IncludeNamesInTelemetry { get; set; }

    /// <summary>How to reach AWS: region, credentials, endpoints.</summary>
    public AwsOptions Aws { get; } = new();

    /// <summary>Retries of throttling and transient errors.</summary>
    public RetryOptions Retry { get; } = new();

    /// <summary>Client-side rate limits per service.</summary>
    public RateLimitOptions RateLimits { get; } = new();

    /// <summary>What the snapshot-restore hook (<see cref="ISecretProvider.OnSnapshotRestored"/>) does to cached values.</summary>
    public SnapshotOptions Snapshot { get; } = new();

    /// <summary>Lists what is wrong with these settings; empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (DefaultTtl <= TimeSpan.Zero)
        {
            errors.Add($"{nameof(DefaultTtl)} must be positive.");
        }

        var ttlByKey = new Dictionary<string, (string Reference, TimeSpan Ttl)>(StringComparer.Ordinal);
        foreach (var (reference, ttl) in TtlByReference)
        {
            if (!SecretReference.TryParse(reference, out var parsed))
            {
                errors.Add($"{nameof(TtlByReference)} names '{reference}', which is not a valid reference.");
            }
            else if (!ttlByKey.TryAdd(parsed.CanonicalText, (reference, ttl)) && ttlByKey[parsed.CanonicalText].Ttl != ttl)
            {
                // Two spellings of one reference with different TTLs: whichever came last would silently win.
                errors.Add($"{nameof(TtlByReference)} gives '{ttlByKey[parsed.CanonicalText].Reference}' and '{reference}', the same reference, different TTLs.");
            }

            if (ttl <= TimeSpan.Zero)
            {
                errors.Add($"{nameof(TtlByReference)}['{reference}'] must be positive.");
            }
        }

        if (double.IsNaN(TtlJitter) || TtlJitter is < 0 or > 0.5)
        {
            errors.Add($"{nameof(TtlJitter)} must be between 0 and 0.5.");
        }

        if (double.IsNaN(RefreshAheadFraction) || RefreshAheadFraction is <= 0 or > 1)
        {
            errors.Add($"{nameof(RefreshAheadFraction)} must be above 0 and at most 1.");
        }

        RequireNonNegative(errors, MaxStaleness, nameof(MaxStaleness));
        RequireNonNegative(errors, StaleFallbackTimeout, nameof(StaleFallbackTimeout));
        RequireNonNegative(errors, NegativeTtl, nameof(NegativeTtl));
        RequireNonNegative(errors, MinForcedRefreshInterval, nameof(MinForcedRefreshInterval));
        RequirePositive(errors, FailureBackoff, nameof(FailureBackoff));
        RequirePositive(errors, FetchTimeout, nameof(FetchTimeout));
        if (FetchTimeout > MaxTimerDuration)
        {
            // The fetch budget is a timer; a longer one would make every fetch fail with ArgumentOutOfRangeException.
            errors.Add($"{nameof(FetchTimeout)} must be at most {MaxTimerDuration.TotalDays:0.#} days.");
        }

        if (MaxFailureBackoff < FailureBackoff)
        {
            errors.Add($"{nameof(MaxFailureBackoff)} must be at least {nameof(FailureBackoff)}.");
        }

        if (MaxEntries < 1)
        {
            errors.Add($"{nameof(MaxEntries)} must be at least 1.");
        }

        RequirePositive(errors, Aws.AttemptTimeout, "Aws.AttemptTimeout");
        errors.AddRange(Resilience.RegionFailover.Validate(Aws.Region, Aws.FailoverRegions));
        if (Retry.MaxRetryAttempts is < 0 or > 20)
        {
            errors.Add("Retry.MaxRetryAttempts must be between 0 and 20.");
        }

        if (Retry.MaxThrottlingRetryAttempts is < 0 or > 20)
        {
            errors.Add("Retry.MaxThrottlingRetryAttempts must be between 0 and 20.");
        }

        if (Aws.MaxResponseBytes <= 0)
        {
            errors.Add("Aws.MaxResponseBytes must be positive.");
        }

        RequirePositive(errors, Retry.BaseDelay, "Retry.BaseDelay");
        RequirePositive(errors, Retry.ThrottlingBaseDelay, "Retry.ThrottlingBaseDelay");
        RequirePositive(errors, Retry.TotalTimeout, "Retry.TotalTimeout");
        if (Retry.BreakDuration != TimeSpan.Zero && (Retry.BreakDuration < TimeSpan.FromMilliseconds(500) || Retry.BreakDuration > TimeSpan.FromDays(1)))
        {
            errors.Add("Retry.BreakDuration must be zero (no circuit breaker) or between 0.5 seconds and 1 day.");
        }

        if (Retry.MaxDelay < Retry.BaseDelay)
        {
            errors.Add("Retry.MaxDelay must be at least Retry.BaseDelay.");
        }

        if (double.IsNaN(RateLimits.SecretsManagerRequestsPerSecond) || RateLimits.SecretsManagerRequestsPerSecond < 0
            || double.IsNaN(RateLimits.ParameterStoreRequestsPerSecond) || RateLimits.ParameterStoreRequestsPerSecond < 0
            || double.IsNaN(RateLimits.SecretsManagerBatchRequestsPerSecond) || RateLimits.SecretsManagerBatchRequestsPerSecond < 0)
        {
            errors.Add("RateLimits: requests per second must be 0 (off) or positive.");
        }

        if (double.IsNaN(RateLimits.BurstSeconds) || RateLimits.BurstSeconds is <= 0 or > 60)
        {
            errors.Add("RateLimits.BurstSeconds must be above 0 and at most 60.");
        }

        if (RateLimits.QueueLimit < 0)
        {
            errors.Add("RateLimits.QueueLimit must not be negative.");
        }

        errors.AddRange(Snapshot.Validate());
        return errors;
    }

    internal void ThrowIfInvalid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new SecretsConfigurationException("Invalid SecretsCache options: " + string.Join(" ", errors));
        }
    }

    private static void RequirePositive(List<string> errors, TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"{name} must be positive.");
        }
    }

    private static void RequireNonNegative(List<string> errors, TimeSpan value, string name)
    {
        if (value < TimeSpan.Zero)
        {
            errors.Add($"{name} must not be negative.");
        }
    }
}
