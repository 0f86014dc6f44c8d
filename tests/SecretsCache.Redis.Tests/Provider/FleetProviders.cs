using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using SecretsCache.Redis.Composition;
using SecretsCache.Redis.Tests.Support;
using SecretsCache.Testing;

namespace SecretsCache.Redis.Tests.Provider;

/// <summary>Full providers with the Redis second level, as a fleet: one namespace and key, each provider its own connection.</summary>
internal sealed class FleetProviders(RedisServer server, AwsEmulator aws) : IDisposable
{
    private readonly List<SecretProvider> _providers = [];

    public string Namespace { get; } = Levels.NewNamespace();

    public byte[] Key { get; } = Levels.NewKey();

    public SecretsCacheOptions Options(Action<SecretsCacheOptions>? configure = null)
    {
        var options = new SecretsCacheOptions().UseEmulator(aws);
        configure?.Invoke(options);
        return options;
    }

    public RedisL2Options RedisOptions(Action<RedisL2Options>? configure = null) =>
        Levels.Options(server.Configuration, Namespace, Key, configure);

    /// <summary>A provider whose second level is connected and subscribed.</summary>
    public async Task<SecretProvider> StartAsync(
        Action<SecretsCacheOptions>? configure = null, Action<RedisL2Options>? configureRedis = null, TimeProvider? time = null,
        IMeterFactory? meters = null, ILoggerFactory? loggers = null)
    {
        server.EnsureRunning();
        var provider = await RedisSecretProvider.CreateAsync(Options(configure), RedisOptions(configureRedis), loggerFactory: loggers, timeProvider: time, meterFactory: meters);
        _providers.Add(provider);
        if (Of(provider).Level is { } level)
        {
            await Levels.SubscribedAsync(level);
        }

        return provider;
    }

    public async Task<SecretProvider[]> StartManyAsync(int count, Action<SecretsCacheOptions>? configure = null, Action<RedisL2Options>? configureRedis = null)
    {
        var providers = new SecretProvider[count];
        for (var i = 0; i < count; i++)
        {
            providers[i] = await StartAsync(configure, configureRedis);
        }

        return providers;
    }

    /// <summary>An emulator and a Redis server of a test class's own, with providers on both.</summary>
    public static async Task<(AwsEmulator Aws, RedisServer Server, FleetProviders Fleet)> StartServersAsync(AwsEmulatorOptions? emulator = null)
    {
        var aws = await AwsEmulator.StartAsync(emulator);
        var server = await RedisServer.StartNewAsync();
        return (aws, server, new FleetProviders(server, aws));
    }

    /// <summary>Disposes what <see cref="StartServersAsync"/> made: the providers, then the servers.</summary>
    public static async Task StopServersAsync(AwsEmulator aws, RedisServer server, FleetProviders fleet)
    {
        fleet.Dispose();
        await server.DisposeAsync();
        await aws.DisposeAsync();
    }

    public static RedisComposition Of(SecretProvider provider) => RedisSecretProvider.FleetOf(provider) ?? throw new InvalidOperationException("Not a provider with a second level.");

    public static RedisSecondLevel LevelOf(SecretProvider provider) => Of(provider).Level ?? throw new InvalidOperationException("The second level is not up.");

    public void Dispose()
    {
        foreach (var provider in _providers)
        {
            provider.Dispose();
        }
    }
}
