using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SecretsCache.Redis.Tests.Support;
using SecretsCache.Testing;

namespace SecretsCache.Redis.Tests.Provider;

/// <summary>
/// <c>AddSecretsCacheRedis</c> beside SecretsCache.Hosting's <c>AddSecretsCache</c>: the provider the container builds has
/// the second level; <c>SecretsCache:Redis</c> is bound; key material in configuration is refused.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RegistrationTests(RedisServer server) : IAsyncLifetime
{
    private AwsEmulator _aws = null!;

    public async Task InitializeAsync() => _aws = await AwsEmulator.StartAsync();

    public async Task DisposeAsync() => await _aws.DisposeAsync();

    [RedisFact]
    public async Task The_providers_a_container_builds_share_the_second_level_named_in_configuration()
    {
        server.EnsureRunning();
        _aws.CreateSecret("app/db", "shared");
        var ns = Levels.NewNamespace();
        var key = Levels.NewKey();
        using var first = Container(ns, key);
        using var second = Container(ns, key);

        var a = first.GetRequiredService<ISecretProvider>();
        var b = second.GetRequiredService<ISecretProvider>();
        var fleetA = FleetProviders.Of((SecretProvider)a);
        var fleetB = FleetProviders.Of((SecretProvider)b);
        await Task.WhenAll(fleetA.Ready, fleetB.Ready).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(ns, first.GetRequiredService<IOptionsMonitor<RedisL2Options>>().Get(Options.DefaultName).Namespace);
        Assert.Equal(TimeSpan.FromSeconds(3), fleetA.Level!.Connection.Options.LeaseWaitTimeout);
        Assert.Equal(TimeSpan.FromMinutes(1), fleetA.Level.Connection.Options.MaxClockSkew);
        Assert.Equal(1.5, fleetA.Level.Connection.Options.FleetRateLimits.FallbackGrowthMargin);
        Assert.Equal("shared", await a.GetStringAsync("app/db"));
        Assert.Equal("shared", await b.GetStringAsync("app/db"));
        Assert.Equal(1, _aws.Requests.Count("secretsmanager.GetSecretValue"));
    }

    [Theory]
    [InlineData("EncryptionKey")]
    [InlineData("PreviousEncryptionKeys:0")]
    public void An_encryption_key_in_configuration_is_refused_by_path_and_never_quoted(string path)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SecretsCache:Redis:Configuration"] = "127.0.0.1:1",
            ["SecretsCache:Redis:Namespace"] = "app",
            ["SecretsCache:Redis:" + path] = "c2VjcmV0LWtleS1tYXRlcmlhbC1zZWNyZXQta2V5LW1hdGVyaWFs",
        }).Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddSecretsCacheRedis().BuildServiceProvider();

        var error = Assert.Throws<SecretsConfigurationException>(() => services.GetRequiredService<IOptionsMonitor<RedisL2Options>>().Get(Options.DefaultName));

        Assert.Contains("SecretsCache:Redis:" + path.Split(':')[0], error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("c2VjcmV0", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Pasword")] // a misspelt option holding a password
    [InlineData("LeaseDuration")]
    [InlineData("OperationTimeout")]
    [InlineData("MaxClockSkew")]
    [InlineData("FleetRateLimits:MaxBlock")]
    [InlineData("FleetRateLimits:BurstSeconds")]
    [InlineData("CircuitBreaker:FailureRatio")]
    [InlineData("CircuitBreaker:Unknown")]
    public void A_value_that_does_not_bind_is_a_configuration_error_naming_its_key_and_never_quoting_it(string key)
    {
        const string Canary = "pw-canary-7f3a9";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SecretsCache:Redis:Configuration"] = "127.0.0.1:1",
            ["SecretsCache:Redis:Namespace"] = "app",
            ["SecretsCache:Redis:" + key] = Canary,
        }).Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddSecretsCacheRedis().BuildServiceProvider();

        var error = Assert.Throws<SecretsConfigurationException>(() => services.GetRequiredService<IOptionsMonitor<RedisL2Options>>().Get(Options.DefaultName));

        Assert.Contains("SecretsCache:Redis:" + key, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Canary, error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("FleetRateLimits:MaxBlock", "99999999999999999999")]
    [InlineData("LeaseDuration", "-00:00:01")]
    [InlineData("FleetRateLimits:SecretsManagerRequestsPerSecond", "NaN")]
    [InlineData("FleetRateLimits:BurstSeconds", "Infinity")]
    [InlineData("FleetRateLimits:FallbackGrowthMargin", "0.5")]
    [InlineData("KeyReloadInterval", "10675199.02:48:05.4775807")]
    [InlineData("MaxClockSkew", "00:00:00.5")]
    [InlineData("MaxClockSkew", "-00:00:30")]
    [InlineData("CircuitBreaker:FirstBreakDuration", "00:00:00.05")]
    public void An_out_of_range_value_fails_with_a_typed_error_naming_the_option(string key, string value)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SecretsCache:Redis:Configuration"] = "127.0.0.1:1",
            ["SecretsCache:Redis:Namespace"] = "app",
            ["SecretsCache:Redis:EncryptionKeySecret"] = "redis/key",
            ["SecretsCache:Redis:" + key] = value,
        }).Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddSecretsCacheRedis().BuildServiceProvider();

        var error = Record.Exception(() => services.GetRequiredService<IOptionsMonitor<RedisL2Options>>().Get(Options.DefaultName));

        var message = Assert.IsAssignableFrom<Exception>(error) switch
        {
            OptionsValidationException validation => string.Join(" ", validation.Failures),
            SecretsConfigurationException configuration2 => configuration2.Message,
            var other => throw new Xunit.Sdk.XunitException($"{other.GetType().Name}: not a typed configuration error"),
        };
        Assert.Contains(key.Split(':')[^1], message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_options_fail_validation_with_every_problem_named()
    {
        using var services = new ServiceCollection().AddSecretsCacheRedis(o => o.Namespace = "not valid!").BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptionsMonitor<RedisL2Options>>().Get(Options.DefaultName));

        Assert.Contains(error.Failures, f => f.Contains("Configuration", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("Namespace", StringComparison.Ordinal));
    }

    private ServiceProvider Container(string ns, byte[] key)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SecretsCache:DefaultTtl"] = "00:05:00",
            ["SecretsCache:Redis:Configuration"] = server.Configuration,
            ["SecretsCache:Redis:Namespace"] = ns,
            ["SecretsCache:Redis:LeaseWaitTimeout"] = "00:00:03",
            ["SecretsCache:Redis:MaxClockSkew"] = "00:01:00",
            ["SecretsCache:Redis:FleetRateLimits:FallbackGrowthMargin"] = "1.5",
        }).Build();
        return new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddSecretsCache(o => o.UseEmulator(_aws))
            .AddSecretsCacheRedis(o => o.EncryptionKey = key)
            .BuildServiceProvider();
    }
}
