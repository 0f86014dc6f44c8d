using System.Collections.Concurrent;

namespace SecretsCache.Testing.State;

/// <summary>Which resources a test has made unreadable (access denied) or undecryptable, per region and service. A null
/// region means every region the emulator serves, so a rule set everywhere can be lifted in one region.</summary>
internal sealed class AccessRules(IReadOnlyList<string> regions)
{
    private readonly ConcurrentDictionary<string, bool> _denied = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _undecryptable = new(StringComparer.Ordinal);

    public void Deny(string? region, EmulatorService service, string name) => Set(_denied, region, service, name);

    public void FailDecryption(string? region, EmulatorService service, string name) => Set(_undecryptable, region, service, name);

    public void Restore(string? region, EmulatorService service, string name)
    {
        foreach (var key in Keys(region, service, name))
        {
            _denied.TryRemove(key, out _);
            _undecryptable.TryRemove(key, out _);
        }
    }

    public bool IsDenied(string region, EmulatorService service, string? name) => name is not null && _denied.ContainsKey(Key(region, service, name));

    public bool FailsDecryption(string region, EmulatorService service, string? name) => name is not null && _undecryptable.ContainsKey(Key(region, service, name));

    private void Set(ConcurrentDictionary<string, bool> rules, string? region, EmulatorService service, string name)
    {
        foreach (var key in Keys(region, service, name))
        {
            rules[key] = true;
        }
    }

    private IEnumerable<string> Keys(string? region, EmulatorService service, string name) =>
        (region is null ? regions : [region]).Select(r => Key(r, service, name));

    private static string Key(string region, EmulatorService service, string name) => $"{region}:{service}:{name}";
}

/// <summary>The access rules as one region sees them.</summary>
internal sealed class RegionAccess(AccessRules rules, string region)
{
    public bool IsDenied(EmulatorService service, string? name) => rules.IsDenied(region, service, name);

    public bool FailsDecryption(EmulatorService service, string? name) => rules.FailsDecryption(region, service, name);
}

/// <summary>The two emulated services.</summary>
internal enum EmulatorService
{
    SecretsManager,
    ParameterStore,
}
