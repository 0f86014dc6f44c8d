using Microsoft.Extensions.Primitives;
using SecretsCache.Diagnostics;
using SecretsCache.Rotation;

namespace SecretsCache.Caching;

/// <summary>
/// Version changes and change tokens, kept on the entries so they are bounded by <see cref="SecretsCacheOptions.MaxEntries"/>
/// and released with them. Policy: a change is announced once per entry (two stores racing with one version announce it
/// once); a token fires at the next change, or when its reference leaves the cache (eviction, invalidation), since a change
/// after that can no longer be seen: the holder reads again and takes a new token. No token a caller holds misses a change.
/// </summary>
internal sealed partial class CacheEngine
{
    private const string NoVersion = "";

    /// <summary>A token that fires at the next version change of the reference, or when it leaves the cache.</summary>
    public IChangeToken GetChangeToken(string text)
    {
        while (true)
        {
            // Watching a reference is using it: the entry is created if need be, counts against the size bound and is
            // least recently used only when neither read nor watched.
            var entry = Resolve(text);
            lock (entry.Gate)
            {
                if (entry.Evicted)
                {
                    continue;
                }

                MarkUsed(entry);
                var side = entry.Side;
                side.Changes ??= new CancellationTokenSource();
                return new CancellationChangeToken(side.Changes.Token);
            }
        }
    }

    /// <summary>The entries holding change-token sources and announced versions (for tests of the bound). O(n).</summary>
    internal (int ChangeTokens, int AnnouncedVersions) ChangeTrackingSizes
    {
        get
        {
            int tokens = 0, announced = 0;
            foreach (var entry in Entries())
            {
                if (entry.SideIfAny is not { } side)
                {
                    continue;
                }

                lock (entry.Gate)
                {
                    tokens += side.Changes is null ? 0 : 1;
                }

                announced += Volatile.Read(ref side.AnnouncedVersion) is null ? 0 : 1;
            }

            return (tokens, announced);
        }
    }

    /// <summary>Raises <see cref="VersionChanged"/> and fires the entry's tokens, once per new version. Never throws.</summary>
    private void AnnounceVersionChange(CacheEntry entry, Secret previous, Secret current)
    {
        if (!TryClaim(entry, current.Version ?? NoVersion))
        {
            return;
        }

        Log.VersionChanged(_logger, entry.Key, previous.Version, current.Version);
        try
        {
            VersionChanged?.Invoke(entry.Reference, previous, current);
        }
        catch (Exception ex)
        {
            // A subscriber's bug is logged, not allowed to fail the fetch (or the rest of a warm-up batch).
            Log.VersionChangedHandlerFailed(_logger, entry.Key, ex);
        }

        // Tokens handed out from now on belong to the next change; the current ones fire once, after the event's handlers.
        Fire(entry.Key, TakeChanges(entry));
    }

    private static bool TryClaim(CacheEntry entry, string version)
    {
        var side = entry.Side;
        while (true)
        {
            var last = Volatile.Read(ref side.AnnouncedVersion);
            if (string.Equals(last, version, StringComparison.Ordinal))
            {
                return false;
            }

            if (ReferenceEquals(Interlocked.CompareExchange(ref side.AnnouncedVersion, version, last), last))
            {
                return true;
            }
        }
    }

    private static CancellationTokenSource? TakeChanges(CacheEntry entry)
    {
        if (entry.SideIfAny is not { } side)
        {
            return null;
        }

        lock (entry.Gate)
        {
            var changes = side.Changes;
            side.Changes = null;
            return changes;
        }
    }

    private void Fire(string key, CancellationTokenSource? changes)
    {
        if (changes is null)
        {
            return;
        }

        try
        {
            changes.Cancel();
        }
        catch (AggregateException ex)
        {
            RotationLog.ChangeHandlerFailed(_logger, key, ex);
        }

        // Not disposed: a consumer may still register on a token of this source, which must then fire at once.
    }

    /// <summary>
    /// Fires the tokens of entries the size bound evicted on the thread pool, not on the inserting reader's thread: a
    /// callback that watches again inserts an entry, which may evict again, and must not recurse into this eviction.
    /// </summary>
    private void FireLater(List<(string Key, CancellationTokenSource Changes)> evicted)
    {
        if (evicted.Count > 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(
                static state =>
                {
                    foreach (var (key, changes) in state.Evicted)
                    {
                        state.Engine.Fire(key, changes);
                    }
                },
                (Engine: this, Evicted: evicted),
                preferLocal: false);
        }
    }
}
