using Microsoft.Extensions.Logging.Testing;
using SecretsCache.Testing;

namespace SecretsCache.IntegrationTests.Provider.Support;

/// <summary>
/// The base of the provider tests: a clean emulator (no faults, zeroed request log) for every test, unique names, and
/// providers built over real HTTP with quick retries, no TTL jitter and no refresh-ahead, disposed after the test.
/// </summary>
public abstract class ProviderTestBase : IAsyncLifetime
{
    private readonly List<IDisposable> _owned = [];

    protected ProviderTestBase(AwsFixture fixture)
    {
        Fixture = fixture;
    }

    protected AwsFixture Fixture { get; }

    protected AwsEmulator Aws => Fixture.Aws;

    /// <summary>A secret name no other test uses, e.g. <c>it/db/3f2a...</c>.</summary>
    protected static string SecretName(string prefix = "s") => $"it/{prefix}/{Guid.NewGuid():N}";

    /// <summary>Creates <paramref name="count"/> secrets with names no other test uses, each valued <paramref name="valuePrefix"/> + its name.</summary>
    protected List<string> CreateSecrets(string prefix, int count, string valuePrefix = "v-")
    {
        var names = Enumerable.Range(0, count).Select(_ => SecretName(prefix)).ToList();
        foreach (var name in names)
        {
            Aws.CreateSecret(name, valuePrefix + name);
        }

        return names;
    }

    /// <summary>A parameter path no other test uses, e.g. <c>/it/3f2a.../</c> (with a trailing slash).</summary>
    protected static string ParameterRoot() => $"/it/{Guid.NewGuid():N}/";

    public virtual Task InitializeAsync()
    {
        Aws.Faults.Clear();
        Aws.Requests.Reset();
        return Task.CompletedTask;
    }

    public virtual Task DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }

        return Task.CompletedTask;
    }

    /// <summary>Quick, deterministic defaults on top of <see cref="EmulatorOptionsExtensions.UseEmulator"/>.</summary>
    protected SecretsCacheOptions Options(Action<SecretsCacheOptions>? configure = null)
    {
        var options = new SecretsCacheOptions().UseEmulator(Aws);
        options.TtlJitter = 0;
        options.RefreshAheadFraction = 1;
        options.Retry.BaseDelay = TimeSpan.FromMilliseconds(1);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(5);
        configure?.Invoke(options);
        return options;
    }

    protected SecretProvider CreateProvider(Action<SecretsCacheOptions>? configure = null, TimeProvider? time = null, HttpClient? http = null, FakeLoggerProvider? logs = null) =>
        CreateProvider(Options(configure), time, http, logs);

    protected SecretProvider CreateProvider(SecretsCacheOptions options, TimeProvider? time = null, HttpClient? http = null, FakeLoggerProvider? logs = null)
    {
        var provider = new SecretProvider(options, http, logs is null ? null : Own(FakeLogs.Factory(logs)), time);
        Own(provider);
        return provider;
    }

    protected T Own<T>(T disposable)
        where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }
}
