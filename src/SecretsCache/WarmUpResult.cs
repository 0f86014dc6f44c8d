namespace SecretsCache;

/// <summary>The outcome of <see cref="ISecretProvider.WarmUpAsync"/>: how many references loaded, and why the others did not.</summary>
public sealed class WarmUpResult
{
    internal WarmUpResult(int loaded, IReadOnlyDictionary<string, Exception> failures)
    {
        Loaded = loaded;
        Failures = failures;
    }

    /// <summary>How many references now have a value in the cache.</summary>
    public int Loaded { get; }

    /// <summary>The references that could not be loaded, with the reason (never a value).</summary>
    public IReadOnlyDictionary<string, Exception> Failures { get; }

    /// <summary>True when every reference loaded.</summary>
    public bool Succeeded => Failures.Count == 0;

    /// <summary>Throws an <see cref="AggregateException"/> of the failures, if there were any.</summary>
    public void ThrowIfAnyFailed()
    {
        if (Failures.Count > 0)
        {
            throw new AggregateException(
                $"{Failures.Count} of {Loaded + Failures.Count} references could not be loaded: {string.Join(", ", Failures.Keys)}.",
                Failures.Values);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"WarmUpResult {{ Loaded = {Loaded}, Failed = {Failures.Count} }}";
}
