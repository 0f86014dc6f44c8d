namespace SecretsCache.Caching;

/// <summary>
/// What the index holds under one key: the entry, and a copy of what a hit needs (the fresh secret, the time until which a
/// hit may return it, and the entry's use cell), so a hit reads the index's own node and not the entry: once the cache
/// outgrows the processor's caches that is one memory access less per hit (docs/benchmarks.md, "A hit, piece by piece").
/// The engine replaces a key's slot whenever the entry's value changes (<c>CacheEngine.SetValue</c>). Two slots are equal when
/// they hold the same entry, whatever their copies: the index's conditional replacements and removals compare the entry.
/// </summary>
internal readonly struct IndexSlot : IEquatable<IndexSlot>
{
    public IndexSlot(CacheEntry entry)
        : this(entry, null, long.MinValue)
    {
    }

    public IndexSlot(CacheEntry entry, Secret? fresh, long freshUntil)
    {
        Entry = entry;
        Fresh = fresh;
        FreshUntil = freshUntil;
        Use = entry.Use;
    }

    public CacheEntry Entry { get; }

    /// <summary>The secret a hit may return until <see cref="FreshUntil"/> (the value's RefreshAt, at or before its ExpiresAt).</summary>
    public Secret? Fresh { get; }

    public long FreshUntil { get; }

    /// <summary>The entry's cell in the engine's <see cref="UseStamps"/>.</summary>
    public int Use { get; }

    /// <summary>The slot of <paramref name="entry"/> as its value is now.</summary>
    public static IndexSlot Of(CacheEntry entry) =>
        entry.Value is { } value ? new IndexSlot(entry, value.Secret, value.RefreshAt) : new IndexSlot(entry);

    /// <summary>The cached secret, if it is fresh and not yet due for a refresh at <paramref name="now"/>: the whole of a hit.</summary>
    public Secret? FreshAt(long now) => now < FreshUntil ? Fresh : null;

    public bool Equals(IndexSlot other) => ReferenceEquals(Entry, other.Entry);

    public override bool Equals(object? obj) => obj is IndexSlot other && Equals(other);

    public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(Entry);

    public static bool operator ==(IndexSlot left, IndexSlot right) => left.Equals(right);

    public static bool operator !=(IndexSlot left, IndexSlot right) => !left.Equals(right);
}
