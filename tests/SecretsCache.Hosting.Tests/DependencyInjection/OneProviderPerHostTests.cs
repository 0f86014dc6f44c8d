using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SecretsCache.Tests.Fakes;
using SecretsCache.Hosting.Configuration;
using SecretsCache.Hosting.Tests.Support;
using SecretsCache.Testing;

namespace SecretsCache.Hosting.Tests.DependencyInjection;

/// <summary>
/// When configuration builds a provider before the container exists, the container adopts it: one host, one cache, one set
/// of token buckets.
/// </summary>
public sealed class OneProviderPerHostTests(EmulatorFixture emulator) : IClassFixture<EmulatorFixture>
{
    private AwsEmulator Aws => emulator.Aws;

    [Fact]
    public async Task The_container_adopts_the_provider_configuration_built_so_the_host_has_one_set_of_token_buckets()
    {
        Aws.CreateSecret("host/one", "1");
        Aws.CreateSecret("host/two", "2");

        // One token that never refills (the clock does not move), spent by configuration loading "host/one".
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var configuration = new ConfigurationManager();
        configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SecretsCache:Aws:ServiceUrl"] = Aws.Endpoint.ToString(),
            ["SecretsCache:Aws:Region"] = Aws.Region,
            ["SecretsCache:RateLimits:SecretsManagerRequestsPerSecond"] = "1",
            ["SecretsCache:RateLimits:BurstSeconds"] = "1",
            ["SecretsCache:RateLimits:Behavior"] = "FailFast",
            ["SecretsCache:Retry:MaxRetryAttempts"] = "0",
        });
        configuration.AddSecretsCache(s =>
        {
            s.TimeProvider = clock;
            s.ReloadInterval = TimeSpan.Zero;
            s.AddSecret("host/one", "One");
            s.ConfigureProvider = Credentials;
        });
        Assert.Equal("1", configuration["One"]);

        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton<TimeProvider>(clock);
        services.AddSecretsCache(Credentials);
        await using var container = services.BuildServiceProvider();

        var built = ((IConfigurationRoot)configuration).Providers.OfType<SecretsConfigurationProvider>().Single().Owned;
        Assert.NotNull(built);
        Assert.Same(built, container.GetRequiredService<SecretProvider>());
        Assert.Same(built, container.GetRequiredService<ISecretProvider>());

        // The configuration's read is cached in the one cache, and the one bucket it emptied refuses a second AWS call.
        Assert.Equal("1", (await container.GetRequiredService<ISecretProvider>().GetAsync("host/one")).GetString());
        var refused = await Assert.ThrowsAsync<SecretThrottledException>(() => container.GetRequiredService<ISecretProvider>().GetAsync("host/two").AsTask());
        Assert.Equal("ClientRateLimited", refused.ErrorCode);
    }

    [Fact]
    public async Task A_provider_given_to_configuration_is_not_adopted_and_nothing_is_built_twice_without_configuration()
    {
        Aws.CreateSecret("host/given", "g");
        using var given = new SecretProvider(emulator.Options());
        var configuration = new ConfigurationManager();
        configuration.AddSecretsCache(s =>
        {
            s.Provider = given;
            s.ReloadInterval = TimeSpan.Zero;
            s.AddSecret("host/given", "Given");
        });

        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSecretsCache(o => o.UseEmulator(Aws));
        await using var container = services.BuildServiceProvider();

        Assert.NotSame(given, container.GetRequiredService<SecretProvider>());
        Assert.Same(container.GetRequiredService<SecretProvider>(), container.GetRequiredService<ISecretProvider>());
    }

    [Fact]
    public async Task The_container_alone_disposes_the_adopted_provider_and_configuration_stops_reloading_when_it_does()
    {
        Aws.CreateSecret("host/reloaded", "r");
        var (configuration, clock) = ConfigurationThatBuildsAProvider("host/reloaded", reloadEvery: TimeSpan.FromMinutes(1));
        var source = ((IConfigurationRoot)configuration).Providers.OfType<SecretsConfigurationProvider>().Single();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSecretsCache(Credentials);
        var container = services.BuildServiceProvider();
        Assert.Same(source.Owned, container.GetRequiredService<SecretProvider>());

        // The container, the owner, disposes the provider: the reload timer stops with it instead of reading a disposed provider.
        await container.DisposeAsync();
        Assert.Equal(0, clock.ActiveTimers);
        clock.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(0, source.ReloadChecks);
        Assert.Null(source.LastReloadError);
        configuration.Dispose(); // and disposing configuration afterwards disposes nothing twice
        Assert.Throws<ObjectDisposedException>(() => source.Owned!.GetAsync("host/reloaded").AsTask().GetAwaiter().GetResult());
    }

    [Fact]
    public async Task Configuration_disposed_first_leaves_the_adopted_provider_to_the_container()
    {
        Aws.CreateSecret("host/kept", "k");
        var (configuration, clock) = ConfigurationThatBuildsAProvider("host/kept", reloadEvery: TimeSpan.FromMinutes(1));
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSecretsCache(Credentials);
        await using var container = services.BuildServiceProvider();
        var provider = container.GetRequiredService<ISecretProvider>();

        configuration.Dispose();

        Assert.Equal(0, clock.ActiveTimers); // configuration's timer stopped; the one owner (the container) keeps the provider
        Assert.Equal("k", (await provider.GetAsync("host/kept")).GetString());
    }

    private (ConfigurationManager Configuration, FakeTimeProvider Clock) ConfigurationThatBuildsAProvider(string secret, TimeSpan reloadEvery)
    {
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var configuration = new ConfigurationManager();
        configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SecretsCache:Aws:ServiceUrl"] = Aws.Endpoint.ToString(),
            ["SecretsCache:Aws:Region"] = Aws.Region,
            ["SecretsCache:RateLimits:SecretsManagerRequestsPerSecond"] = "0", // no refill timers: the clock's only timer is the reload's
            ["SecretsCache:RateLimits:SecretsManagerBatchRequestsPerSecond"] = "0",
            ["SecretsCache:RateLimits:ParameterStoreRequestsPerSecond"] = "0",
        });
        configuration.AddSecretsCache(s =>
        {
            s.TimeProvider = clock;
            s.ReloadInterval = reloadEvery;
            s.AddSecret(secret, "Value");
            s.ConfigureProvider = Credentials;
        });
        Assert.Equal(1, clock.ActiveTimers);
        return (configuration, clock);
    }

    private void Credentials(SecretsCacheOptions o) => o.Aws.Credentials = new Amazon.Runtime.BasicAWSCredentials(Aws.AccessKeyId, Aws.SecretAccessKey);
}
