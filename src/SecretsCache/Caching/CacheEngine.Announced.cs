using System.Diagnostics.CodeAnalysis;
using SecretsCache.Sources;

namespace SecretsCache.Caching;

/// <summary>What the engine tells a backplane (SecretsCache.Redis): invalidations done here, for every other instance to apply.</summary>
internal interface IEngineAnnouncements
{
    /// <summary><see cref="CacheEngine.Invalidate"/> ran for <paramref name="canonicalKey"/>.</summary>
    void Invalidated(string canonicalKey);

    /// <summary><see cref="CacheEngine.InvalidateAll"/> ran.</summary>
    void InvalidatedAll();

    /// <summary>
    /// <paramref name="canonicalKey"/>'s entry left this L1 (evicted by the size bound, invalidated here or by an announcement):
    /// what a backplane keeps for it can go. Called after the entry is out of the index, so <see cref="CacheEngine.Holds"/>
    /// already answers false unless a new entry for the key was made since.
    /// </summary>
    void Dropped(string canonicalKey);
}

/// <summary>
/// A cache shared with other instances (a second level and its backplane): the age of a value counts from its AWS fetch,
/// whichever level kept it; invalidations are announced; and what other instances announce is applied here without being
/// announced again (no echo). Version changes are announced by the second level itself, which knows what came from AWS.
/// </summary>
internal sealed partial class CacheEngine
{
    private volatile IEngineAnnouncements? _announcements;

    /// <summary>Set once, by a backplane, after the provider is built.</summary>
    public IEngineAnnouncements? Announcements
    {
        get => _announcements;
        set => _announcements = value;
    }

    /// <summary>
    /// Applies another instance's version announcement: when this instance holds <paramref name="canonicalKey"/> with another
    /// version, it fetches again (<see cref="FetchReason.Announced"/>: the shared level first), and the new version raises
    /// <see cref="VersionChanged"/> here as anywhere. A key not held here, or held at that version, is left alone.
    /// </summary>
    /// <returns>Whether a fetch was started.</returns>
    public bool ApplyAnnouncedVersion(string canonicalKey, string? version)
    {
        if (_disposed.IsCancellationRequested || !TryGetOwnEntry(canonicalKey, out var entry)
            || entry.Value is not { } value || string.Equals(value.Secret.Version, version, StringComparison.Ordinal))
        {
            return false;
        }

        TaskCompletionSource<Secret> completion;
        lock (entry.Gate)
        {
            if (entry.Evicted || entry.InFlight is not null)
            {
                return false; // A fetch under way will see the new version, or the entry is gone.
            }

            completion = new TaskCompletionSource<Secret>(TaskCreationOptions.RunContinuationsAsynchronously);
            entry.InFlight = completion.Task;
        }

        StartFetch(entry, completion, FetchReason.Announced); // CacheEngine.Sync.cs: off any caller's context
        return true;
    }

    /// <summary>
    /// The canonical keys that hold a value now: a backplane that comes up after they were read (reads go to AWS until the
    /// second level is connected, or attached to a provider configuration built) learns them here, so the fleet's
    /// announcements about them apply.
    /// </summary>
    public IEnumerable<string> HeldKeys()
    {
        foreach (var (key, slot) in _entries)
        {
            if (slot.Entry is var entry && entry.IsKey(key) && !entry.Evicted && entry.Value is not null)
            {
                yield return entry.Key;
            }
        }
    }

    /// <summary>Applies another instance's <see cref="Invalidate"/>, without announcing it again.</summary>
    public void ApplyAnnouncedInvalidation(string canonicalKey)
    {
        if (TryGetOwnEntry(canonicalKey, out var entry) && Remove(entry, out var changes))
        {
            Fire(entry.Key, changes);
        }
    }

    /// <summary>How long the value this L1 holds for <paramref name="canonicalKey"/> stays fresh from now (zero once expired); null when it holds none.</summary>
    public TimeSpan? FreshFor(string canonicalKey)
    {
        if (!TryGetOwnEntry(canonicalKey, out var entry) || entry.Value is not { } value)
        {
            return null;
        }

        var left = value.ExpiresAt - _clock.Now();
        return left > 0 ? _policy.Duration(left) : TimeSpan.Zero;
    }

    /// <summary>Whether this L1 has an entry for <paramref name="canonicalKey"/> now (fetched, or being fetched).</summary>
    public bool Holds(string canonicalKey) =>
        TryGetOwnEntry(canonicalKey, out var entry) && !entry.Evicted;

    /// <summary>The entry whose canonical text is <paramref name="canonicalKey"/>, found under its own key, not an alias.</summary>
    private bool TryGetOwnEntry(string canonicalKey, [NotNullWhen(true)] out CacheEntry? entry)
    {
        var plain = IndexKeys.Of(canonicalKey);
        return (TryGetEntry(plain, out entry) && entry.IsKey(plain))
            || (!ReferenceEquals(plain, canonicalKey) && TryGetEntry(canonicalKey, out entry) && entry.IsKey(canonicalKey));
    }

    /// <summary>Applies another instance's <see cref="InvalidateAll"/>, without announcing it again.</summary>
    public void ApplyAnnouncedInvalidateAll() => RemoveAll();

    /// <summary>
    /// The engine timestamp of <paramref name="secret"/>'s AWS fetch: <paramref name="now"/> less its age by the wall clock
    /// (<see cref="Secret.FetchedAt"/>). A value without a fetch time, or one from a clock ahead of this one, is as old as now.
    /// </summary>
    private long FetchedTicks(Secret secret, long now)
    {
        if (secret.FetchedAt == default)
        {
            return now;
        }

        var age = _time.GetUtcNow() - secret.FetchedAt;
        return age <= TimeSpan.Zero ? now : now - _policy.Ticks(age);
    }
}
