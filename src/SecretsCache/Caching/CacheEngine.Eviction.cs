using SecretsCache.Diagnostics;

namespace SecretsCache.Caching;

/// <summary>
/// The size bound, an approximate LRU by sampling. Policy: an insert that takes the cache past
/// <see cref="SecretsCacheOptions.MaxEntries"/> evicts until it is back within it, one entry per insert in the steady state.
/// The victim is the least recently used (read, watched or inserted: <see cref="UseStamps"/>) of the next
/// <see cref="Sample"/> entries under a hand that walks the index round and round. The index is a hash table, so those are a
/// sample of the cache unrelated to age, and a cache of at most <see cref="Sample"/> entries is exact LRU. The work is the
/// same at any size (the hand looks at <see cref="MaxSteps"/> keys at most), so no caller pays for a scan. The entry being
/// inserted is never the one evicted. While inserts race, the count can pass the bound by the inserts in progress (at most
/// one per thread) until each has evicted; each waits only for the bounded work of the others.
/// </summary>
internal sealed partial class CacheEngine
{
    /// <summary>Entries compared to choose one victim.</summary>
    internal const int Sample = 16;

    /// <summary>Keys (aliases and removed entries included) the hand looks at, at most, to choose one victim.</summary>
    internal const int MaxSteps = 64;

    private readonly object _evictionGate = new();

    // The clock hand: an enumerator of the index, continued from one eviction to the next and restarted at the end. A
    // ConcurrentDictionary enumerator tolerates concurrent changes; it may show a removed entry (skipped: Evicted is set).
    private IEnumerator<KeyValuePair<string, IndexSlot>>? _hand;

    private void EvictOverflow(CacheEntry inserted)
    {
        List<(string Key, CancellationTokenSource Changes)>? watched = null;
        var evicted = 0;
        lock (_evictionGate)
        {
            while (Count > _options.MaxEntries && NextVictim(inserted) is { } victim)
            {
                if (Remove(victim, out var changes))
                {
                    if (changes is not null)
                    {
                        (watched ??= []).Add((victim.Key, changes));
                    }

                    // Counted per entry, so evictions carry the same source and kind tags as every other instrument.
                    SecretsCacheMetrics.Add(_metrics.Evictions, in victim.Tags);
                    evicted++;
                }
            }
        }

        if (evicted > 0)
        {
            Log.Evicted(_logger, evicted, _options.MaxEntries);
        }

        if (watched is not null)
        {
            FireLater(watched); // An evicted reference's changes can no longer be seen: its tokens fire (CacheEngine.Changes.cs).
        }
    }

    /// <summary>Moves the hand over the next <see cref="Sample"/> entries and returns the least recently used of them.</summary>
    private CacheEntry? NextVictim(CacheEntry inserted)
    {
        var now = Volatile.Read(ref _useClock);
        CacheEntry? oldest = null;
        var oldestAge = -1L;
        var sampled = 0;
        var restarted = false;
        for (var step = 0; step < MaxSteps && sampled < Sample; step++)
        {
            _hand ??= _entries.GetEnumerator();
            if (!_hand.MoveNext())
            {
                _hand.Dispose();
                _hand = null;
                if (restarted)
                {
                    break; // a small cache: every entry has been looked at
                }

                restarted = true;
                continue;
            }

            var (key, slot) = _hand.Current;
            var entry = slot.Entry;
            if (entry.Evicted || ReferenceEquals(entry, inserted) || !entry.IsKey(key))
            {
                continue;
            }

            sampled++;
            var age = _uses.Age(entry.Use, now);
            if (age > oldestAge)
            {
                (oldest, oldestAge) = (entry, age);
            }
        }

        return oldest;
    }
}
