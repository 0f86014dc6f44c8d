using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SecretsCache.Redis.Tests.Support;

namespace SecretsCache.Redis.Tests.Provider;

/// <summary>
/// A host with SecretsCache.Hosting's configuration source and <c>AddSecretsCacheRedis</c>: configuration builds its provider
/// before the container exists (its first load reads AWS), and the container adopts that provider with the second level
/// attached, so the host has one provider, and it has the L2, the fleet limiter and the backplane.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class ConfigurationSourceTests(RedisServer server) : FleetProviderTests(server)
{
    private const string GetSecretValue = "secretsmanager.GetSecretValue";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [RedisFact]
    public async Task The_provider_configuration_built_is_adopted_with_the_second_level_which_another_instance_then_reads()
    {
        Server.EnsureRunning();
        Aws.CreateSecret("app/db", """{"User":"u1"}""");
        Aws.CreateSecret("app/other", "o1");
        using var configuration = Configuration();
        Assert.Equal("u1", configuration["Db:User"]);
        Assert.Equal(1, Aws.Requests.Count(GetSecretValue)); // the first load: before the container, from AWS
        await using var host = Container(configuration);

        var provider = host.GetRequiredService<SecretProvider>();
        var fleet = FleetProviders.Of(provider);
        await fleet.Ready.WaitAsync(Bound);
        Assert.NotNull(fleet.Level);
        Assert.Same(provider, host.GetRequiredService<ISecretProvider>());
        Assert.Same(Built(configuration), provider);

        // Read through the adopted provider now: from AWS once, through the fleet bucket, and written to Redis ...
        Assert.Equal("o1", await provider.GetStringAsync("app/other"));
        Assert.Equal(2, Aws.Requests.Count(GetSecretValue));
        await using var admin = await Server.ConnectAdminAsync();
        Assert.True(await admin.GetDatabase().KeyExistsAsync($"sc:{Fleet.Namespace}:rl:sm"));

        // ... so another instance of the fleet reads it from Redis, not AWS.
        var other = await Fleet.StartAsync();
        Assert.Equal("o1", await other.GetStringAsync("app/other"));
        Assert.Equal(2, Aws.Requests.Count(GetSecretValue));
    }

    [RedisFact]
    public async Task A_rotation_another_instance_announces_reaches_the_secret_configuration_loaded_before_the_level_was_up()
    {
        Server.EnsureRunning();
        Aws.CreateSecret("app/db", "v1");
        using var configuration = Configuration();
        Assert.Equal("v1", configuration["Db"]);
        await using var host = Container(configuration);
        var provider = host.GetRequiredService<SecretProvider>();
        await FleetProviders.Of(provider).Ready.WaitAsync(Bound);
        await Levels.SubscribedAsync(FleetProviders.LevelOf(provider));
        var other = await Fleet.StartAsync();
        Assert.Equal("v1", await other.GetStringAsync("app/db")); // from AWS: configuration's read never wrote Redis
        var changed = new TaskCompletionSource<SecretChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        provider.SecretChanged += (_, e) => changed.TrySetResult(e);
        var newVersion = Aws.PutSecretValue("app/db", "v2");

        Assert.Equal("v2", (await other.RefreshAsync("app/db")).GetString());

        // The adopted provider read "app/db" from AWS before it had a backplane; it still applies the announcement.
        var e = await changed.Task.WaitAsync(Bound);
        Assert.Equal(("sm:app/db", newVersion), (e.Reference, e.NewVersion));
        Assert.Equal("v2", await provider.GetStringAsync("app/db"));
        Assert.Equal(3, Aws.Requests.Count(GetSecretValue)); // configuration, the other's read, its refresh; the change came from Redis
    }

    [RedisFact]
    public async Task Reads_under_way_while_the_container_attaches_the_second_level_all_answer_and_later_reads_use_it()
    {
        Server.EnsureRunning();
        Aws.CreateSecret("app/db", "v");
        const int Keys = 64;
        for (var i = 0; i < Keys; i++)
        {
            Aws.CreateSecret($"app/k{i}", $"v{i}");
        }

        using var configuration = Configuration();
        var built = Built(configuration)!;
        using var stop = new CancellationTokenSource(Bound);
        var attached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var readers = Enumerable.Range(0, 4).Select(r => Task.Run(async () =>
        {
            // Each reader reads every key until the level is attached, then once more: bounded by the keys and the time.
            for (var round = 0; round < 1_000 && !stop.IsCancellationRequested; round++)
            {
                var done = attached.Task.IsCompleted;
                for (var i = r; i < Keys; i += 4)
                {
                    built.Invalidate($"app/k{i}");
                    Assert.Equal($"v{i}", await built.GetStringAsync($"app/k{i}", stop.Token));
                }

                if (done)
                {
                    return;
                }
            }
        })).ToArray();
        await using var host = Container(configuration);

        Assert.Same(built, host.GetRequiredService<SecretProvider>());
        attached.SetResult();
        await Task.WhenAll(readers).WaitAsync(Bound);
        await FleetProviders.Of(built).Ready.WaitAsync(Bound);
        built.Invalidate("app/k0");
        Assert.Equal("v0", await built.GetStringAsync("app/k0")); // through the level and the fleet bucket
        await using var admin = await Server.ConnectAdminAsync();
        Assert.True(await admin.GetDatabase().KeyExistsAsync($"sc:{Fleet.Namespace}:rl:sm"));
    }

    [RedisFact]
    public async Task Without_AddSecretsCacheRedis_the_adopted_provider_has_no_second_level()
    {
        Aws.CreateSecret("app/db", "v1");
        using var configuration = Configuration();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddSecretsCache(Credentials);
        await using var host = services.BuildServiceProvider();

        var provider = host.GetRequiredService<SecretProvider>();

        Assert.Same(Built(configuration), provider);
        Assert.Null(RedisSecretProvider.FleetOf(provider));
    }

    private ConfigurationManager Configuration()
    {
        var configuration = new ConfigurationManager();
        configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SecretsCache:Aws:ServiceUrl"] = Aws.Endpoint.ToString(),
            ["SecretsCache:Aws:Region"] = Aws.Region,
            ["SecretsCache:Redis:Configuration"] = Server.Configuration,
            ["SecretsCache:Redis:Namespace"] = Fleet.Namespace,
        });
        configuration.AddSecretsCache(s =>
        {
            s.ReloadInterval = TimeSpan.Zero;
            s.AddSecret("app/db", "Db");
            s.ConfigureProvider = Credentials;
        });
        return configuration;
    }

    private ServiceProvider Container(IConfiguration configuration) =>
        new ServiceCollection()
            .AddSingleton(configuration)
            .AddSecretsCache(Credentials)
            .AddSecretsCacheRedis(o => o.EncryptionKey = Fleet.Key)
            .BuildServiceProvider();

    private static SecretProvider? Built(IConfigurationRoot configuration) =>
        configuration.Providers.OfType<SecretsCache.Hosting.Configuration.SecretsConfigurationProvider>().Single().Owned;

    private void Credentials(SecretsCacheOptions o) => o.Aws.Credentials = new Amazon.Runtime.BasicAWSCredentials(Aws.AccessKeyId, Aws.SecretAccessKey);
}
