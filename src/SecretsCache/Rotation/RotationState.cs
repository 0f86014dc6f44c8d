using System.Collections.Concurrent;

namespace SecretsCache.Rotation;

/// <summary>
/// What rotation handling remembers per provider: the references whose AWSPENDING version worked while AWSCURRENT was refused,
/// with the AWSCURRENT version seen then. The pin holds only while AWSCURRENT stays at that version: once a refresh shows a new
/// AWSCURRENT (the rotation finished, or was rolled back), the current value is used again.
/// </summary>
internal sealed class RotationState
{
    // Canonical key -> the AWSCURRENT version that was refused when AWSPENDING worked.
    private readonly ConcurrentDictionary<string, string> _pendingPins = new(StringComparer.Ordinal);

    /// <summary>The pins of <paramref name="provider"/> (its runtime's, or a foreign provider's own set).</summary>
    public static RotationState For(ISecretProvider provider) => Composition.ProviderRuntime.Of(provider).Rotation;

    /// <summary>False in the common case, so the fast path of <c>ExecuteAsync</c> skips parsing the reference.</summary>
    public bool HasPins => !_pendingPins.IsEmpty;

    public bool TryGetPin(string key, out string refusedCurrentVersion) => _pendingPins.TryGetValue(key, out refusedCurrentVersion!);

    public void Pin(string key, string refusedCurrentVersion) => _pendingPins[key] = refusedCurrentVersion;

    public void Unpin(string key) => _pendingPins.TryRemove(key, out _);

    /// <summary>Removes the pin only if it still names <paramref name="refusedCurrentVersion"/> (another caller may have re-pinned).</summary>
    public void Unpin(string key, string refusedCurrentVersion) =>
        _pendingPins.TryRemove(new KeyValuePair<string, string>(key, refusedCurrentVersion));
}
