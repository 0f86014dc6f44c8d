using System.Text.Json.Serialization.Metadata;

namespace SecretsCache;

/// <summary>Typed reads on top of <see cref="ISecretProvider.GetAsync"/>.</summary>
public static class SecretProviderExtensions
{
    /// <summary>Reads a value as a string.</summary>
    /// <exception cref="SecretFormatException">The secret is binary.</exception>
    public static async ValueTask<string> GetStringAsync(this ISecretProvider provider, string reference, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(provider);
        var secret = await provider.GetAsync(reference, cancellationToken).ConfigureAwait(false);
        return secret.GetString();
    }

    /// <summary>Reads a value as bytes: the binary value, or the UTF-8 bytes of a string value.</summary>
    public static async ValueTask<ReadOnlyMemory<byte>> GetBytesAsync(this ISecretProvider provider, string reference, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(provider);
        var secret = await provider.GetAsync(reference, cancellationToken).ConfigureAwait(false);
        return secret.GetBytes();
    }

    /// <summary>Reads a JSON value as <typeparamref name="T"/> through source-generated metadata (AOT-safe).</summary>
    /// <exception cref="SecretFormatException">The value is not valid JSON for <typeparamref name="T"/>.</exception>
    public static async ValueTask<T> GetJsonAsync<T>(this ISecretProvider provider, string reference, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(provider);
        var secret = await provider.GetAsync(reference, cancellationToken).ConfigureAwait(false);
        return secret.GetJson(typeInfo);
    }
}
