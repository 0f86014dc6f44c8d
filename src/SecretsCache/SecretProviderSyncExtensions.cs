using System.Text.Json.Serialization.Metadata;

namespace SecretsCache;

/// <summary>
/// Typed synchronous reads on top of <see cref="ISecretProvider.GetSecret"/>, for code that cannot await: a hit returns at once,
/// a miss blocks the calling thread for the shared fetch (at most <see cref="SecretsCacheOptions.FetchTimeout"/>), never
/// deadlocking under a <see cref="SynchronizationContext"/>. Prefer <see cref="SecretProviderExtensions"/>'s asynchronous
/// reads wherever the caller can await.
/// </summary>
public static class SecretProviderSyncExtensions
{
    /// <summary>Reads a value as a string, synchronously.</summary>
    /// <exception cref="SecretFormatException">The secret is binary.</exception>
    public static string GetString(this ISecretProvider provider, string reference, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(provider);
        return provider.GetSecret(reference, cancellationToken).GetString();
    }

    /// <summary>Reads a value as bytes (the binary value, or the UTF-8 bytes of a string value), synchronously.</summary>
    public static ReadOnlyMemory<byte> GetBytes(this ISecretProvider provider, string reference, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(provider);
        return provider.GetSecret(reference, cancellationToken).GetBytes();
    }

    /// <summary>Reads a JSON value as <typeparamref name="T"/> through source-generated metadata (AOT-safe), synchronously.</summary>
    /// <exception cref="SecretFormatException">The value is not valid JSON for <typeparamref name="T"/>.</exception>
    public static T GetJson<T>(this ISecretProvider provider, string reference, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(provider);
        return provider.GetSecret(reference, cancellationToken).GetJson(typeInfo);
    }
}
