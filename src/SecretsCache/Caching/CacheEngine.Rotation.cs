using System.Collections.Concurrent;
using SecretsCache.Rotation;
using SecretsCache.Sources;

namespace SecretsCache.Caching;

/// <summary>
/// Forced refreshes, rate-limited per reference. Policy: a forced refresh joins the fetch under way; otherwise it starts a fetch
/// only if none was forced for this reference within <see cref="SecretsCacheOptions.MinForcedRefreshInterval"/>; inside the
/// interval it answers from the cache (or the ordinary read path when nothing usable is cached) without a backend call.
/// The interval is kept per canonical key, not per entry, so invalidation or eviction does not reset it.
/// </summary>
internal sealed partial class CacheEngine
{
    // Canonical key -> timestamp of the last forced fetch started for it.
    private readonly ConcurrentDictionary<string, long> _lastForcedFetch = new(StringComparer.Ordinal);

    private async ValueTask<Secret> ForcedRefreshAsync(CacheEntry entry, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        var interval = _policy.Ticks(_options.MinForcedRefreshInterval);
        Task<Secret>? fetch = null;
        TaskCompletionSource<Secret>? started = null;
        var now = _clock.Now();
        lock (entry.Gate)
        {
            if (entry.InFlight is { } running)
            {
                fetch = running;
            }
            else if (interval <= 0 || !_lastForcedFetch.TryGetValue(entry.Key, out var last) || now - last >= interval)
            {
                // Claimed under the entry's lock, so concurrent forced refreshes start exactly one fetch per interval.
                _lastForcedFetch[entry.Key] = now;
                started = new TaskCompletionSource<Secret>(TaskCreationOptions.RunContinuationsAsynchronously);
                entry.InFlight = started.Task;
                fetch = started.Task;
            }
        }

        if (started is not null)
        {
            PruneForcedFetchTimes(now, interval);
            StartFetch(entry, started, FetchReason.Forced); // Outside the lock: change handlers run when the fetch stores its value.
        }

        if (fetch is not null)
        {
            return await fetch.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        RotationLog.ForcedRefreshLimited(_logger, entry.Key, _options.MinForcedRefreshInterval.TotalMilliseconds);
        if (entry.Value is { } value && now < value.ExpiresAt)
        {
            MarkUsed(entry);
            return value.Secret;
        }

        // Nothing fresh is cached (the forced fetch failed, or the key was invalidated): the ordinary read path decides,
        // with its own single-flight, backoff and negative caching.
        return await GetAsync(entry.IndexKey, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Keeps the interval table from growing without bound: past the entry limit, forget keys whose interval has passed.</summary>
    private void PruneForcedFetchTimes(long now, long interval)
    {
        if (_lastForcedFetch.Count <= _options.MaxEntries)
        {
            return;
        }

        foreach (var (key, last) in _lastForcedFetch)
        {
            if (now - last >= interval)
            {
                _lastForcedFetch.TryRemove(new KeyValuePair<string, long>(key, last));
            }
        }
    }
}
