using System.Collections.Concurrent;

namespace SecretsCache.Testing.Signing;

/// <summary>An access key the emulator accepts; a credential with a session token must be used with that token.</summary>
internal sealed record EmulatorCredential(string AccessKeyId, string SecretAccessKey, string? SessionToken);

/// <summary>The accepted credentials, by access key id.</summary>
internal sealed class CredentialStore
{
    private readonly ConcurrentDictionary<string, EmulatorCredential> _credentials = new(StringComparer.Ordinal);

    public void Add(EmulatorCredential credential) => _credentials[credential.AccessKeyId] = credential;

    public EmulatorCredential? Find(string accessKeyId) => _credentials.GetValueOrDefault(accessKeyId);
}
