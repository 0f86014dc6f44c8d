namespace SecretsCache;

/// <summary>
/// The outcome of <see cref="ISecretProvider.WarmUpAsync"/>: how many references loaded, why the others did not, and which
/// were pushed out again by the cache's size bound.
/// </summary>
public sealed class WarmUpResult
{
    internal WarmUpResult(int loaded, IReadOnlyDictionary<string, Exception> failures, IReadOnlyList<string>? evicted = null)
    {
        Loaded = loaded;
        Failures = failures;
        Evicted = evicted ?? [];
    }

    /// <summary>How many references now have a value in the cache.</summary>
    public int Loaded { get; }

    /// <summary>The references that could not be loaded, with the reason (never a value).</summary>
    public IReadOnlyDictionary<string, Exception> Failures { get; }

    /// <summary>
    /// The references that were read but did not stay: the warm-up list does not fit in
    /// <see cref="SecretsCacheOptions.MaxEntries"/>, so the least recently used were evicted (a warning is logged). They did
    /// not fail, and are not in <see cref="Failures"/>; a later read of one fetches it again. Raise <c>MaxEntries</c>
    /// above the list's size to keep them all.
    /// </summary>
    public IReadOnlyList<string> Evicted { get; }

    /// <summary>True when every reference loaded and stayed in the cache (no failures, none evicted).</summary>
    public bool Succeeded => Failures.Count == 0 && Evicted.Count == 0;

    /// <summary>Throws an <see cref="AggregateException"/> of the failures, if there were any. Evictions are not failures: see <see cref="Evicted"/>.</summary>
    public void ThrowIfAnyFailed()
    {
        if (Failures.Count > 0)
        {
            throw new AggregateException(
                $"{Failures.Count} of {Loaded + Failures.Count + Evicted.Count} references could not be loaded: {string.Join(", ", Failures.Keys)}.",
                Failures.Values);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"WarmUpResult {{ Loaded = {Loaded}, Failed = {Failures.Count}, Evicted = {Evicted.Count} }}";
}
