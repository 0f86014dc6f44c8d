using SecretsCache.Diagnostics;

namespace SecretsCache.Caching;

/// <summary>
/// The size bound. Policy: when an insert takes the cache past <see cref="SecretsCacheOptions.MaxEntries"/>, the least recently
/// read entries are evicted until it holds 90% of the bound, so the O(n) scan is paid once per 10% of inserts, not per insert.
/// The entry being inserted is never the one evicted.
/// </summary>
internal sealed partial class CacheEngine
{
    private readonly object _evictionGate = new();

    private void EvictOverflow(CacheEntry inserted)
    {
        var watched = new List<(string Key, CancellationTokenSource Changes)>();
        lock (_evictionGate)
        {
            if (Count <= _options.MaxEntries)
            {
                return;
            }

            var target = Math.Max(1, _options.MaxEntries - (_options.MaxEntries / 10));
            var candidates = _byKey.Values.Where(e => !ReferenceEquals(e, inserted)).ToArray();
            Array.Sort(candidates, static (a, b) => Volatile.Read(ref a.LastAccess).CompareTo(Volatile.Read(ref b.LastAccess)));
            var evicted = 0;
            foreach (var entry in candidates)
            {
                if (Count <= target)
                {
                    break;
                }

                if (Remove(entry, out var changes))
                {
                    if (changes is not null)
                    {
                        watched.Add((entry.Key, changes));
                    }

                    // Counted per entry, so evictions carry the same source and kind tags as every other instrument.
                    SecretsCacheMetrics.Add(_metrics.Evictions, in entry.Tags);
                    evicted++;
                }
            }

            if (evicted > 0)
            {
                Log.Evicted(_logger, evicted, _options.MaxEntries);
            }
        }

        FireLater(watched); // An evicted reference's changes can no longer be seen: its tokens fire (CacheEngine.Changes.cs).
    }
}
