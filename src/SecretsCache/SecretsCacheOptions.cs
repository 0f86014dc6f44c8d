using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using static SecretsCache.Composition.OptionsValidation;

namespace SecretsCache;

/// <summary>
/// Settings of a <see cref="SecretProvider"/>. Every default is safe for production; see the README's option table.
/// </summary>
[System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026:RequiresUnreferencedCode", Justification = Composition.OptionsValidation.TimeSpanRangeIsNeverConstructed)]
public sealed class SecretsCacheOptions
{
    /// <summary>How long a fetched value is fresh. Default 5 minutes.</summary>
    [Range(typeof(TimeSpan), Zero, MaxTimeSpan, MinimumIsExclusive = true, ParseLimitsInInvariantCulture = true)]
    public TimeSpan DefaultTtl { get; set; } = Defaults.Ttl;

    /// <summary>TTLs for particular references, keyed by reference text (any spelling of the reference).</summary>
    public IDictionary<string, TimeSpan> TtlByReference { get; } = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);

    /// <summary>Up to this fraction (0 to 0.5) is taken off each TTL at random, spreading a fleet's refreshes. Default 0.1.</summary>
    [Range(0d, 0.5d)]
    public double TtlJitter { get; set; } = Defaults.TtlJitter;

    /// <summary>
    /// A hit after this fraction of the TTL (above 0, up to 1) starts one background refresh and returns the current value at once.
    /// 1 turns refresh-ahead off. Default 0.8.
    /// </summary>
    [Range(0d, 1d, MinimumIsExclusive = true)]
    public double RefreshAheadFraction { get; set; } = Defaults.RefreshAheadFraction;

    /// <summary>How long past its expiry a last good value may be served while refreshes fail with transient errors. Zero turns serve-stale off. Default 1 hour.</summary>
    [Range(typeof(TimeSpan), Zero, MaxTimeSpan, ParseLimitsInInvariantCulture = true)]
    public TimeSpan MaxStaleness { get; set; } = Defaults.MaxStaleness;

    /// <summary>
    /// How long a caller holding a usable stale value waits on a slow refresh before getting the stale value. Default 1 second.
    /// It gets the stale value sooner when the instance knows, or learns while it waits, that AWS cannot answer in time (an
    /// outage or an open breaker in every region the read may go to, or a refresh that would have to wait for a rate-limit
    /// token: the stale value then goes out at once while the refresh waits its turn).
    /// </summary>
    [Range(typeof(TimeSpan), Zero, MaxTimeSpan, ParseLimitsInInvariantCulture = true)]
    public TimeSpan StaleFallbackTimeout { get; set; } = Defaults.StaleFallbackTimeout;

    /// <summary>How long a not-found answer is cached. Default 30 seconds.</summary>
    [Range(typeof(TimeSpan), Zero, MaxTimeSpan, ParseLimitsInInvariantCulture = true)]
    public TimeSpan NegativeTtl { get; set; } = Defaults.NegativeTtl;

    /// <summary>The most entries held; past it, the least recently used are evicted. Default 10,000.</summary>
    [Range(1, int.MaxValue)]
    public int MaxEntries { get; set; } = Defaults.MaxEntries;

    /// <summary>The first pause before a failing key is fetched again; it doubles per failure, with jitter. Default 1 second.</summary>
    [Range(typeof(TimeSpan), Zero, MaxTimeSpan, MinimumIsExclusive = true, ParseLimitsInInvariantCulture = true)]
    public TimeSpan FailureBackoff { get; set; } = Defaults.FailureBackoff;

    /// <summary>The cap on the pause between fetches of a failing key. Default 1 minute.</summary>
    public TimeSpan MaxFailureBackoff { get; set; } = Defaults.MaxFailureBackoff;

    /// <summary>The time budget of one backend fetch, its retries included. Default 30 seconds.</summary>
    [Range(typeof(TimeSpan), Zero, MaxTimer, MinimumIsExclusive = true, ParseLimitsInInvariantCulture = true)]
    public TimeSpan FetchTimeout { get; set; } = Defaults.FetchTimeout;

    /// <summary>
    /// The least time between two forced refreshes of one reference (<see cref="ISecretProvider.RefreshAsync"/> and the rotation
    /// re-fetch of <c>ExecuteAsync</c>). A forced refresh inside the interval joins the fetch under way or returns the cached value
    /// without calling AWS, so a wrong credential cannot flood the backend however many callers fail. Zero turns the limit off.
    /// Default 5 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), Zero, MaxTimeSpan, ParseLimitsInInvariantCulture = true)]
    public TimeSpan MinForcedRefreshInterval { get; set; } = Defaults.MinForcedRefreshInterval;

    /// <summary>
    /// Whether metric and activity tags may carry secret and parameter names (never values), and <see cref="Secret.GetJson{T}"/>
    /// errors the JSON path (which for a dictionary-shaped secret names its keys). Off by default because names can be
    /// sensitive and make tags high-cardinality.
    /// </summary>
    public bool IncludeNamesInTelemetry { get; set; }

    /// <summary>How to reach AWS: region, credentials, endpoints.</summary>
    [ValidateObjectMembers]
    public AwsOptions Aws { get; } = new();

    /// <summary>Retries of throttling and transient errors.</summary>
    [ValidateObjectMembers]
    public RetryOptions Retry { get; } = new();

    /// <summary>Client-side rate limits per service.</summary>
    [ValidateObjectMembers]
    public RateLimitOptions RateLimits { get; } = new();

    /// <summary>What the snapshot-restore hook (<see cref="ISecretProvider.OnSnapshotRestored"/>) does to cached values.</summary>
    [ValidateObjectMembers]
    public SnapshotOptions Snapshot { get; } = new();

    /// <summary>
    /// Lists what is wrong with these settings, each problem by the option's name and never by its value; empty when they are
    /// valid. Every provider validates its options once, when it is built.
    /// </summary>
    public IReadOnlyList<string> Validate() => Composition.OptionsValidation.Validate(this);
}
