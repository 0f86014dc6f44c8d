using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace SecretsCache.Caching;

/// <summary>The state of one reference. Readers take snapshots of the volatile fields; writers change them under <see cref="Gate"/>.</summary>
internal sealed class CacheEntry
{
    public const int MaxAliases = 16;

    public CacheEntry(SecretReference reference, TimeSpan ttl, TagList tags, long now)
    {
        Reference = reference;
        Ttl = ttl;
        Tags = tags;
        LastAccess = now;
    }

    public SecretReference Reference { get; }

    public string Key => Reference.CanonicalText;

    public TimeSpan Ttl { get; }

    /// <summary>The metric tags of this entry, built once so a hit allocates nothing.</summary>
    public readonly TagList Tags;

    public readonly object Gate = new();

    /// <summary>The last good value; kept while it can still be served stale.</summary>
    public volatile CachedValue? Value;

    /// <summary>The last failure, while the key backs off (or a cached not-found).</summary>
    public volatile FailureState? Failure;

    /// <summary>The one fetch under way for this key (single-flight). Guarded by <see cref="Gate"/>.</summary>
    public Task<Secret>? InFlight;

    /// <summary>Reference texts that map to this entry in the fast lookup. Guarded by <see cref="Gate"/>.</summary>
    public readonly List<string> Aliases = new(1);

    public long LastAccess;

    /// <summary>When serving stale was last logged for this entry (engine clock), so an outage logs once per interval, not per read.</summary>
    public long LastStaleLog = long.MinValue;

    public volatile bool Evicted;

    /// <summary>The source of the change tokens handed out since the last version change, if any. Guarded by <see cref="Gate"/>.</summary>
    public CancellationTokenSource? Changes;

    /// <summary>The version last announced as a change, so racing stores of one version announce it once.</summary>
    public string? AnnouncedVersion;
}

/// <summary>An immutable snapshot of a cached value and the timestamps (in <see cref="TimeProvider"/> ticks) that govern it.</summary>
internal sealed record CachedValue(Secret Secret, long FetchedAt, long RefreshAt, long ExpiresAt, long StaleUntil);

/// <summary>An immutable snapshot of a key's failure: the error, how many in a row, and when the key may be fetched again.</summary>
internal sealed record FailureState(ExceptionDispatchInfo Error, int ConsecutiveFailures, long RetryAt, bool IsNotFound);
