using System.Collections.Concurrent;
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
    private readonly Func<double> _random;
    private readonly CachePolicy _policy;
    private readonly EngineClock _clock;
    private readonly CancellationTokenSource _disposed = new();

    // Canonical key -> entry, plus a fast path from any reference text already seen to its entry (so a hit parses nothing).
    private readonly ConcurrentDictionary<string, CacheEntry> _byKey = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CacheEntry> _byText = new(StringComparer.Ordinal);
    private int _count;

    /// <summary>Serving stale is logged at most once per entry per this interval; the stale-served metric counts every read.</summary>
    internal static readonly TimeSpan StaleLogInterval = TimeSpan.FromSeconds(10);

    public CacheEngine(ISecretSource source, CacheSettings options, TimeProvider timeProvider, ILogger logger, SecretsCacheMetrics metrics, Func<double>? random = null)
    {
        _source = source;
        _options = options;
        _time = timeProvider;
        _logger = logger;
        _metrics = metrics;
#pragma warning disable CA5394 // Jitter, not security.
        _random = random ?? Random.Shared.NextDouble;
#pragma warning restore CA5394
        _clock = new EngineClock(timeProvider);
        _policy = new CachePolicy(options, _clock.Frequency);
    }

    /// <summary>Raised after a refresh sees a different version than the one cached. Never carries values.</summary>
    public event Action<SecretReference, Secret, Secret>? VersionChanged;

    public int Count => Volatile.Read(ref _count);

    public ValueTask<Secret> GetAsync(string text, CancellationToken cancellationToken)
    {
        var entry = Resolve(text);
        var now = _clock.Now();
        var value = entry.Value;
        if (value is not null && now < value.ExpiresAt)
        {
            // Written only when it changes: on a hot key read by every core, an unconditional write would bounce the cache line.
            if (Volatile.Read(ref entry.LastAccess) != now)
            {
                Volatile.Write(ref entry.LastAccess, now);
            }

            SecretsCacheMetrics.Add(_metrics.Hits, in entry.Tags);
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
        if (_byKey.TryGetValue(key, out var entry) && Remove(entry, out var changes))
        {
            Fire(entry.Key, changes); // The next fetch has no previous value to compare with: the holder must read again.
        }
    }

    public void InvalidateAll()
    {
        var removed = new List<(string Key, CancellationTokenSource? Changes)>();
        foreach (var entry in _byKey.Values)
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
            _disposed.Cancel();
            _disposed.Dispose();
        }
    }

    private async ValueTask<Secret> GetSlowAsync(CacheEntry entry, CachedValue? value, long now, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        Volatile.Write(ref entry.LastAccess, now);
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
        if (value is not null && now < value.StaleUntil && !fetch.IsCompleted)
        {
            if (_options.StaleFallbackTimeout == TimeSpan.Zero)
            {
                return ServeStale(entry, value, now);
            }

            if (_options.StaleFallbackTimeout < _options.FetchTimeout)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var delay = Task.Delay(_options.StaleFallbackTimeout, _time, timeout.Token);
                var first = await Task.WhenAny(fetch, delay).ConfigureAwait(false);
                await timeout.CancelAsync().ConfigureAwait(false);
                if (first != fetch)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    return ServeStale(entry, value, _clock.Now());
                }
            }
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
        var lastLog = Volatile.Read(ref entry.LastStaleLog);
        if ((lastLog == long.MinValue || now - lastLog >= _policy.Ticks(StaleLogInterval))
            && Interlocked.CompareExchange(ref entry.LastStaleLog, now, lastLog) == lastLog)
        {
            Log.ServingStale(_logger, entry.Key, _policy.Duration(now - value.FetchedAt).TotalSeconds);
        }

        return value.Secret;
    }

    private CacheEntry Resolve(string text)
    {
        ArgumentNullException.ThrowIfNull(text, "reference");
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this); // Before the fast path: a disposed cache serves no hits.
        if (_byText.TryGetValue(text, out var entry) && !entry.Evicted)
        {
            return entry;
        }

        return ResolveSlow(text);
    }

    private CacheEntry ResolveSlow(string text)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        var reference = SecretReference.Parse(text);
        var key = reference.CanonicalText;
        while (true)
        {
            if (!_byKey.TryGetValue(key, out var entry) || entry.Evicted)
            {
                var ttl = _options.TtlByKey.TryGetValue(key, out var configured) ? configured : _options.DefaultTtl;
                var candidate = new CacheEntry(reference, ttl, TelemetryTags.For(reference, _options.IncludeNamesInTelemetry), _clock.Now());
                if (entry is not null ? !_byKey.TryUpdate(key, candidate, entry) : !_byKey.TryAdd(key, candidate))
                {
                    continue; // Lost a race with another thread adding or evicting this key; look again.
                }

                entry = candidate;
                if (Interlocked.Increment(ref _count) > _options.MaxEntries)
                {
                    EvictOverflow(entry);
                }
            }

            lock (entry.Gate)
            {
                if (entry.Evicted)
                {
                    continue;
                }

                if (entry.Aliases.Count < CacheEntry.MaxAliases && !entry.Aliases.Contains(text))
                {
                    entry.Aliases.Add(text);
                    _byText[text] = entry;
                }
            }

            return entry;
        }
    }

    /// <summary>Removes the entry; <paramref name="changes"/> is its change-token source, for the caller to fire.</summary>
    private bool Remove(CacheEntry entry, out CancellationTokenSource? changes)
    {
        changes = null;
        if (!_byKey.TryRemove(new KeyValuePair<string, CacheEntry>(entry.Key, entry)))
        {
            return false;
        }

        Interlocked.Decrement(ref _count);
        lock (entry.Gate)
        {
            entry.Evicted = true;
            changes = entry.Changes;
            entry.Changes = null;
            foreach (var alias in entry.Aliases)
            {
                _byText.TryRemove(new KeyValuePair<string, CacheEntry>(alias, entry));
            }
        }

        return true;
    }
}
