using System.Collections.Concurrent;

namespace SecretsCache.Testing.State;

/// <summary>Which resources a test has made unreadable (access denied) or undecryptable, per service.</summary>
internal sealed class AccessRules
{
    private readonly ConcurrentDictionary<string, bool> _denied = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _undecryptable = new(StringComparer.Ordinal);

    public void Deny(EmulatorService service, string name) => _denied[Key(service, name)] = true;

    public void FailDecryption(EmulatorService service, string name) => _undecryptable[Key(service, name)] = true;

    public void Restore(EmulatorService service, string name)
    {
        _denied.TryRemove(Key(service, name), out _);
        _undecryptable.TryRemove(Key(service, name), out _);
    }

    public bool IsDenied(EmulatorService service, string? name) => name is not null && _denied.ContainsKey(Key(service, name));

    public bool FailsDecryption(EmulatorService service, string? name) => name is not null && _undecryptable.ContainsKey(Key(service, name));

    private static string Key(EmulatorService service, string name) => $"{service}:{name}";
}

/// <summary>The two emulated services.</summary>
internal enum EmulatorService
{
    SecretsManager,
    ParameterStore,
}
