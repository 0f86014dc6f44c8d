using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
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
    // Each key's slot carries a copy of what a hit needs (IndexSlot), so a hit reads the index and not the entry.
    private readonly ConcurrentDictionary<string, IndexSlot> _entries = new(StringComparer.Ordinal);
    private readonly UseStamps _uses = new();
    private readonly object[] _creationGates = [.. Enumerable.Range(0, 32).Select(_ => new object())];
    private int _count;
    private int _useClock; // counts inserts: the clock of the use stamps (CacheEngine.Eviction.cs)

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
        // The hit, kept this small on purpose: a lookup, a clock read and the index's own node (the entry is not read). The
        // fewer instructions and memory accesses a hit takes, the more of the next reads' a core overlaps with this one's
        // (docs/benchmarks.md).
        if (TryHit(text, out var fresh, out var slot))
        {
            return new ValueTask<Secret>(fresh);
        }

        return GetNotFreshAsync(slot.Entry is { Evicted: false } entry ? entry : ResolveSlow(text), _clock.Now(), cancellationToken);
    }

    /// <summary>
    /// A fresh hit, counted: the whole of it. Otherwise false, with the slot found (default when none); an entry being
    /// removed may still answer from an alias's slot until its removal ends, as a read just before it would have.
    /// </summary>
    private bool TryHit(string text, [NotNullWhen(true)] out Secret? fresh, out IndexSlot slot)
    {
        ArgumentNullException.ThrowIfNull(text, "reference");
        ObjectDisposedException.ThrowIf(_isDisposed, this); // Before the fast path: a disposed cache serves no hits.
        if (_entries.TryGetValue(text, out slot) && slot.FreshAt(_clock.Now()) is { } secret)
        {
            _uses.Touch(slot.Use, _useClock);
            if (_hits.Enabled)
            {
                SecretsCacheMetrics.Add(_hits, in slot.Entry.Tags);
            }

            fresh = secret;
            return true;
        }

        fresh = null;
        return false;
    }

    /// <summary>A read of an entry with no value fresh enough for the hit path: inside the refresh-ahead window, or a miss.</summary>
    private ValueTask<Secret> GetNotFreshAsync(CacheEntry entry, long now, CancellationToken cancellationToken)
    {
        var value = entry.Value;
        if (value is not null && now < value.ExpiresAt)
        {
            MarkUsed(entry);
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
        if (TryGetByCanonical(key, out var entry) && Remove(entry, out var changes))
        {
            Fire(key, changes); // The next fetch has no previous value to compare with: the holder must read again.
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
        MarkUsed(entry);
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
        ObjectDisposedException.ThrowIf(_isDisposed, this);
        if (_entries.TryGetValue(text, out var slot) && !slot.Entry.Evicted)
        {
            return slot.Entry;
        }

        return ResolveSlow(text);
    }

    private CacheEntry ResolveSlow(string text)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        var reference = SecretReference.Parse(text);
        var canonical = reference.CanonicalText;
        var plain = IndexKeys.Of(canonical);

        // A new entry's own key is the caller's text when it is one of the reference's two key spellings (so no second
        // string is kept), else its plain name.
        var key = string.Equals(text, plain, StringComparison.Ordinal) || string.Equals(text, canonical, StringComparison.Ordinal) ? text : plain;
        while (true)
        {
            CacheEntry? entry;
            var added = false;

            // One creator at a time per reference: its entry may be keyed by either spelling, so a compare-and-swap on one key
            // alone would let a reader of the other spelling add a second entry.
            lock (_creationGates[(canonical.GetHashCode() & int.MaxValue) % _creationGates.Length])
            {
                if (!TryGetLive(plain, canonical, out entry))
                {
                    var candidate = new CacheEntry(key, reference, EntryTags.For(reference, _options.IncludeNamesInTelemetry), _uses.Allocate(Interlocked.Increment(ref _useClock)));
                    var replaced = _entries.TryGetValue(key, out var old)
                        ? _entries.TryUpdate(key, new IndexSlot(candidate), old) // the key's evicted entry, its removal still under way
                        : _entries.TryAdd(key, new IndexSlot(candidate));
                    if (!replaced)
                    {
                        _uses.Release(candidate.Use);
                        continue; // An eviction or removal moved the key; look again.
                    }

                    entry = candidate;
                    added = true;
                }
            }

            if (added && Interlocked.Increment(ref _count) > _options.MaxEntries)
            {
                EvictOverflow(entry);
            }

            if (entry.IsKey(text))
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
                    _entries[text] = IndexSlot.Of(entry); // may replace an alias of an evicted entry, never another entry's key
                }
            }

            return entry;
        }
    }

    /// <summary>The live entry of a reference, under either of its key spellings (<see cref="IndexKeys"/>).</summary>
    private bool TryGetLive(string plain, string canonical, [NotNullWhen(true)] out CacheEntry? entry) =>
        (TryGetEntry(plain, out entry) && !entry.Evicted)
        || (!ReferenceEquals(plain, canonical) && TryGetEntry(canonical, out entry) && !entry.Evicted);

    /// <summary>The entry of the reference whose canonical text is <paramref name="canonical"/>, found under either key spelling or an alias.</summary>
    private bool TryGetByCanonical(string canonical, [NotNullWhen(true)] out CacheEntry? entry)
    {
        var plain = IndexKeys.Of(canonical);
        return TryGetEntry(plain, out entry) || (!ReferenceEquals(plain, canonical) && TryGetEntry(canonical, out entry));
    }

    /// <summary>Each entry once: the index also holds aliases.</summary>
    private IEnumerable<CacheEntry> Entries()
    {
        foreach (var (key, slot) in _entries)
        {
            if (slot.Entry.IsKey(key))
            {
                yield return slot.Entry;
            }
        }
    }

    /// <summary>The TTL of a key: configured for it, or the default.</summary>
    private TimeSpan TtlOf(CacheEntry entry) =>
        _options.TtlByKey.Count != 0 && _options.TtlByKey.TryGetValue(entry.Key, out var configured) ? configured : _options.DefaultTtl;

    /// <summary>Keys in the index, aliases included (for tests of the bound).</summary>
    internal int IndexSize => _entries.Count;

    /// <summary>Use cells held (one per entry in the index; for tests of the bound).</summary>
    internal int UseCellsInUse => _uses.InUse;

    /// <summary>Removes the entry and its aliases; <paramref name="changes"/> is its change-token source, for the caller to fire.</summary>
    private bool Remove(CacheEntry entry, out CancellationTokenSource? changes)
    {
        changes = null;
        var slot = new IndexSlot(entry); // equal to any slot of this entry
        if (!_entries.TryRemove(new KeyValuePair<string, IndexSlot>(entry.IndexKey, slot)))
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
                _entries.TryRemove(new KeyValuePair<string, IndexSlot>(first, slot));
            }

            if (entry.MoreAliases is { } more)
            {
                foreach (var alias in more)
                {
                    _entries.TryRemove(new KeyValuePair<string, IndexSlot>(alias, slot));
                }
            }
        }

        _uses.Release(entry.Use);
        _announcements?.Dropped(entry.Key); // CacheEngine.Announced.cs: a backplane forgets the key, so it stays within MaxEntries.
        return true;
    }

    /// <summary>The entry under <paramref name="key"/> in the index (its own key or an alias), if any.</summary>
    private bool TryGetEntry(string key, [NotNullWhen(true)] out CacheEntry? entry)
    {
        var found = _entries.TryGetValue(key, out var slot);
        entry = slot.Entry;
        return found;
    }

    /// <summary>Notes a read or watch of <paramref name="entry"/> for the size bound.</summary>
    private void MarkUsed(CacheEntry entry) => _uses.Touch(entry.Use, _useClock);

    /// <summary>
    /// Sets the entry's value and replaces its index slots (its key's and its aliases'), so hits see the new value, or stop
    /// seeing one. Under the entry's gate, so the slots follow the values in order; a slot is replaced only while it still
    /// holds this entry.
    /// </summary>
    private void SetValue(CacheEntry entry, CachedValue? value)
    {
        lock (entry.Gate)
        {
            entry.Value = value;
            var slot = IndexSlot.Of(entry);
            _entries.TryUpdate(entry.IndexKey, slot, slot);
            if (entry.FirstAlias is { } first)
            {
                _entries.TryUpdate(first, slot, slot);
            }

            if (entry.MoreAliases is { } more)
            {
                foreach (var alias in more)
                {
                    _entries.TryUpdate(alias, slot, slot);
                }
            }
        }
    }
}
