namespace SecretsCache;

/// <summary>
/// Says that a refresh found a new version of a secret or parameter: raised once per version change, not per caller.
/// Carries the reference and the version ids, never a value; read the value with <see cref="ISecretProvider.GetAsync"/>.
/// </summary>
public sealed class SecretChangedEventArgs : EventArgs
{
    /// <summary>Creates the arguments.</summary>
    /// <param name="reference">The canonical text of the reference that changed (for example <c>sm:app/db</c>).</param>
    /// <param name="oldVersion">The version that was cached.</param>
    /// <param name="newVersion">The version now cached.</param>
    public SecretChangedEventArgs(string reference, string? oldVersion, string? newVersion)
    {
        ArgumentException.ThrowIfNullOrEmpty(reference);
        Reference = reference;
        OldVersion = oldVersion;
        NewVersion = newVersion;
    }

    /// <summary>The canonical text of the reference (as <see cref="SecretReference.ToString"/> gives it), for example <c>sm:app/db</c>.</summary>
    public string Reference { get; }

    /// <summary>The version id (or parameter version) that was cached before.</summary>
    public string? OldVersion { get; }

    /// <summary>The version id (or parameter version) cached now.</summary>
    public string? NewVersion { get; }

    /// <summary>True when <paramref name="reference"/>, in any spelling (<c>app/db</c>, <c>sm:app/db</c>...), names the reference that changed.</summary>
    public bool IsFor(string reference) =>
        SecretReference.TryParse(reference, out var parsed) && string.Equals(parsed.CanonicalText, Reference, StringComparison.Ordinal);

    /// <inheritdoc />
    public override string ToString() => $"SecretChanged {{ Reference = {Reference}, OldVersion = {OldVersion ?? "(none)"}, NewVersion = {NewVersion ?? "(none)"} }}";
}
