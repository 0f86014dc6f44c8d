using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using SecretsCache.Composition;
using SecretsCache.Diagnostics;
using SecretsCache.Sources;

namespace SecretsCache.Caching;

/// <summary>
/// The cache: lookup and the read path. Fetching (single-flight, refresh-ahead, serve-stale, backoff) is in
/// <c>CacheEngine.Fetch.cs</c>, batch loading in <c>.WarmUp.cs</c>, the size bound in <c>.Eviction.cs</c>, version changes and
/// change tokens in <c>.Changes.cs</c>, rate-limited forced refreshes in <c>.Rotation.cs</c>, path listings in <c>.Paths.cs</c>
/// and the health snapshot in <c>.Health.cs</c>. It reads only its frozen <see cref="CacheSettings"/>.
/// </summary>
internal sealed partial class CacheEngine : IDisposable
{
    private readonly ISecretSource _source;
    private readonly CacheSettings _options; // named so for the partials: frozen settings, never the mutable options
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SecretsCacheMetrics _metrics;
    private readonly Counter<long> _hits; // the metrics' own, one load closer to a hit
    private readonly Func<double> _random;
    private readonly CachePolicy _policy;
    private readonly EngineClock _clock;
    private readonly CancellationTokenSource _disposed = new();
    private volatile bool _isDisposed; // the hit's check: a field of the engine itself, one load less than _disposed's state

    // One index: each entry under its canonical key, and under every other reference text already seen (its aliases, at
    // most CacheEntry.MaxAliases), so a hit is one lookup and parses nothing. An alias is never another entry's canonical
    // key: the canonical text of a canonical text is itself. _count counts entries, not keys.
    private readonly ConcurrentDictionary<string, CacheEntry> _entries = new(StringComparer.Ordinal);
    private int _count;
    private int _useClock; // counts inserts: the clock of CacheEntry.LastUsed (CacheEngine.Eviction.cs)

    /// <summary>Serving stale is logged at most once per entry per this interval; the stale-served metric counts every read.</summary>
    internal static readonly TimeSpan StaleLogInterval = TimeSpan.FromSeconds(10);

    public CacheEngine(ISecretSource source, CacheSettings options, TimeProvider timeProvider, ILogger logger, SecretsCacheMetrics metrics, Func<double>? random = null)
    {
        _source = source;
        _options = options;
        _time = timeProvider;
        _logger = logger;
        _metrics = metrics;
        _hits = metrics.Hits;
#pragma warning disable CA5394 // Jitter, not security.
        _random = random ?? Random.Shared.NextDouble;
#pragma warning restore CA5394
        _clock = new EngineClock(timeProvider);
        _policy = new CachePolicy(options, _clock.Frequency);
        _lastReading = ReadClocks(); // CacheEngine.Snapshot.cs
    }

    /// <summary>Raised after a refresh sees a different version than the one cached. Never carries values.</summary>
    public event Action<SecretReference, Secret, Secret>? VersionChanged;

    public int Count => Volatile.Read(ref _count);

    public ValueTask<Secret> GetAsync(string text, CancellationToken cancellationToken)
    {
        // The hit, kept this small on purpose: a lookup, a clock read and one cache line of the entry. The fewer instructions a
        // hit takes, the more of the next reads' memory accesses a core overlaps with this one's (docs/benchmarks.md).
        var entry = Resolve(text);
        var now = _clock.Now();
        if (entry.FreshAt(now) is { } fresh)
        {
            entry.MarkUsed(_useClock);
            if (_hits.Enabled)
            {
                SecretsCacheMetrics.Add(_hits, in entry.Tags);
            }

            return new ValueTask<Secret>(fresh);
        }

        return GetNotFreshAsync(entry, now, cancellationToken);
    }

    /// <summary>A read of an entry with no value fresh enough for the hit path: inside the refresh-ahead window, or a miss.</summary>
    private ValueTask<Secret> GetNotFreshAsync(CacheEntry entry, long now, CancellationToken cancellationToken)
    {
        var value = entry.Value;
        if (value is not null && now < value.ExpiresAt)
        {
            entry.MarkUsed(_useClock);
            SecretsCacheMetrics.Add(_hits, in entry.Tags);
            if (now >= value.RefreshAt)
            {
                RefreshAhead(entry, value, now);
            }

            return new ValueTask<Secret>(value.Secret);
        }

        return GetSlowAsync(entry, value, now, cancellationToken);
    }

    public async ValueTask<Secret> RefreshAsync(string text, CancellationToken cancellationToken)
    {
        var entry = Resolve(text);
        return await ForcedRefreshAsync(entry, cancellationToken).ConfigureAwait(false); // Rate-limited: CacheEngine.Rotation.cs.
    }

    public void Invalidate(string text)
    {
        var key = SecretReference.Parse(text).CanonicalText;
        if (_entries.TryGetValue(key, out var entry) && Remove(entry, out var changes))
        {
            Fire(entry.Key, changes); // The next fetch has no previous value to compare with: the holder must read again.
        }

        _announcements?.Invalidated(key); // CacheEngine.Announced.cs: every other instance of a fleet drops it too.
    }

    public void InvalidateAll()
    {
        RemoveAll();
        _announcements?.InvalidatedAll();
    }

    private void RemoveAll()
    {
        var removed = new List<(string Key, CancellationTokenSource? Changes)>();
        foreach (var entry in Entries())
        {
            if (Remove(entry, out var changes))
            {
                removed.Add((entry.Key, changes));
            }
        }

        // Only after every entry is gone, so a callback that watches again creates an entry this call does not remove.
        foreach (var (key, changes) in removed)
        {
            Fire(key, changes);
        }
    }

    public void Dispose()
    {
        if (!_disposed.IsCancellationRequested)
        {
            _isDisposed = true;
            _disposed.Cancel();
            _disposed.Dispose();
        }
    }

    private async ValueTask<Secret> GetSlowAsync(CacheEntry entry, CachedValue? value, long now, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        entry.MarkUsed(_useClock);
        var failure = entry.Failure;
        if (failure is not null && now < failure.RetryAt)
        {
            // The key is backing off (or a not-found is cached): answer without touching the backend.
            if (!failure.IsNotFound && value is not null && CanServeStale(value, failure.Error.SourceException, now))
            {
                return ServeStale(entry, value, now);
            }

            failure.Error.Throw();
        }

        SecretsCacheMetrics.Add(_metrics.Misses, in entry.Tags);
        var fetch = GetOrStartFetch(entry, force: false);
        if (value is not null && now < value.StaleUntil && !fetch.IsCompleted
            && await StaleBeforeRefreshAsync(entry, fetch, cancellationToken).ConfigureAwait(false)) // CacheEngine.Outage.cs
        {
            return ServeStale(entry, value, _clock.Now());
        }

        try
        {
            return await fetch.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && value is not null && CanServeStale(value, ex, _clock.Now()))
        {
            return ServeStale(entry, value, _clock.Now());
        }
    }

    private static bool CanServeStale(CachedValue value, Exception error, long now) => now < value.StaleUntil && CachePolicy.IsTransient(error);

    private Secret ServeStale(CacheEntry entry, CachedValue value, long now)
    {
        SecretsCacheMetrics.Add(_metrics.StaleServed, in entry.Tags); // every read is counted; the log is rate-limited
        var side = entry.Side;
        var lastLog = Volatile.Read(ref side.LastStaleLog);
        if ((lastLog == long.MinValue || now - lastLog >= _policy.Ticks(StaleLogInterval))
            && Interlocked.CompareExchange(ref side.LastStaleLog, now, lastLog) == lastLog)
        {
            Log.ServingStale(_logger, entry.Key, _policy.Duration(now - value.FetchedAt).TotalSeconds);
        }

        return value.Secret;
    }

    private CacheEntry Resolve(string text)
    {
        ArgumentNullException.ThrowIfNull(text, "reference");
        ObjectDisposedException.ThrowIf(_isDisposed, this); // Before the fast path: a disposed cache serves no hits.
        if (_entries.TryGetValue(text, out var entry) && !entry.Evicted)
        {
            return entry;
        }

        return ResolveSlow(text);
    }

    private CacheEntry ResolveSlow(string text)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        var reference = SecretReference.Parse(text);
        var isCanonical = string.Equals(text, reference.CanonicalText, StringComparison.Ordinal);
        var key = isCanonical ? text : reference.CanonicalText; // the caller's string, when it is the key: one string less
        while (true)
        {
            if (!_entries.TryGetValue(key, out var entry) || entry.Evicted)
            {
                var candidate = new CacheEntry(key, reference, EntryTags.For(reference, _options.IncludeNamesInTelemetry), Interlocked.Increment(ref _useClock));
                if (entry is not null ? !_entries.TryUpdate(key, candidate, entry) : !_entries.TryAdd(key, candidate))
                {
                    continue; // Lost a race with another thread adding or evicting this key; look again.
                }

                entry = candidate;
                if (Interlocked.Increment(ref _count) > _options.MaxEntries)
                {
                    EvictOverflow(entry);
                }
            }

            if (isCanonical)
            {
                return entry;
            }

            lock (entry.Gate)
            {
                if (entry.Evicted)
                {
                    continue;
                }

                if (entry.TryAddAlias(text))
                {
                    _entries[text] = entry; // may replace an alias of an evicted entry, never another entry's key
                }
            }

            return entry;
        }
    }

    /// <summary>Each entry once: the index also holds aliases.</summary>
    private IEnumerable<CacheEntry> Entries()
    {
        foreach (var (key, entry) in _entries)
        {
            if (entry.IsKey(key))
            {
                yield return entry;
            }
        }
    }

    /// <summary>The TTL of a key: configured for it, or the default.</summary>
    private TimeSpan TtlOf(CacheEntry entry) =>
        _options.TtlByKey.Count != 0 && _options.TtlByKey.TryGetValue(entry.Key, out var configured) ? configured : _options.DefaultTtl;

    /// <summary>Keys in the index, aliases included (for tests of the bound).</summary>
    internal int IndexSize => _entries.Count;

    /// <summary>Removes the entry and its aliases; <paramref name="changes"/> is its change-token source, for the caller to fire.</summary>
    private bool Remove(CacheEntry entry, out CancellationTokenSource? changes)
    {
        changes = null;
        if (!_entries.TryRemove(new KeyValuePair<string, CacheEntry>(entry.Key, entry)))
        {
            return false;
        }

        Interlocked.Decrement(ref _count);
        lock (entry.Gate)
        {
            entry.Evicted = true;
            if (entry.SideIfAny is { } side)
            {
                changes = side.Changes;
                side.Changes = null;
            }

            // Without an iterator: an invalidation or eviction allocates nothing for the aliases.
            if (entry.FirstAlias is { } first)
            {
                _entries.TryRemove(new KeyValuePair<string, CacheEntry>(first, entry));
            }

            if (entry.MoreAliases is { } more)
            {
                foreach (var alias in more)
                {
                    _entries.TryRemove(new KeyValuePair<string, CacheEntry>(alias, entry));
                }
            }
        }

        _announcements?.Dropped(entry.Key); // CacheEngine.Announced.cs: a backplane forgets the key, so it stays within MaxEntries.
        return true;
    }
}
