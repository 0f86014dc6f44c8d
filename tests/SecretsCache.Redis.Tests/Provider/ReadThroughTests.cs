using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using SecretsCache.Redis.Tests.Support;
using SecretsCache.Testing;

namespace SecretsCache.Redis.Tests.Provider;

/// <summary>
/// The second level through the whole provider, against the emulator and a real redis-server: an L1 miss reads Redis before
/// AWS, every AWS fetch writes Redis, and one instance of the fleet fetches a key from AWS.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class ReadThroughTests(RedisServer server) : FleetProviderTests(server)
{
    private const string GetSecretValue = "secretsmanager.GetSecretValue";
    [RedisFact]
    public async Task A_second_provider_reads_what_the_first_fetched_from_the_second_level_without_calling_AWS()
    {
        Aws.CreateSecret("app/db", "from-aws");
        Aws.PutParameter("/app/flag", "on");
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        var first = await Fleet.StartAsync();
        var second = await Fleet.StartAsync(meters: meters);
        using var hits = new MetricCollector<long>(meters, SecretsCacheTelemetry.MeterName, "secretscache.l2.hits");

        Assert.Equal("from-aws", await first.GetStringAsync("app/db"));
        Assert.Equal("on", await first.GetStringAsync("ssm:/app/flag"));
        var calls = Aws.Requests.Snapshot().Count;

        var secret = await second.GetAsync("app/db");
        Assert.Equal("from-aws", secret.GetString());
        Assert.Equal("on", await second.GetStringAsync("ssm:/app/flag"));
        Assert.Equal(calls, Aws.Requests.Snapshot().Count);
        Assert.Equal(1, Aws.Requests.Count(GetSecretValue));
        Assert.Equal(2, hits.GetMeasurementSnapshot().Count);
        Assert.NotNull(secret.VersionId);
        Assert.Equal(["AWSCURRENT"], secret.VersionStages);
    }

    [RedisFact]
    public async Task Five_providers_each_on_its_own_connection_reading_one_key_at_once_make_one_AWS_call()
    {
        Aws.CreateSecret("app/hot", "once");
        var providers = await Fleet.StartManyAsync(5);
        Aws.Faults.Latency = TimeSpan.FromMilliseconds(300); // the holder is still fetching when the others look

        var values = await Task.WhenAll(providers.Select(p => Task.Run(() => p.GetStringAsync("app/hot").AsTask())));

        Assert.All(values, v => Assert.Equal("once", v));
        Assert.Equal(1, Aws.Requests.Count(GetSecretValue));
    }

    [RedisFact]
    public async Task A_warm_up_reads_the_second_level_and_fetches_only_what_it_lacks()
    {
        for (var i = 0; i < 6; i++)
        {
            Aws.CreateSecret($"app/s{i}", $"value-{i}");
        }

        var first = await Fleet.StartAsync();
        var second = await Fleet.StartAsync();
        Assert.Equal(3, (await first.WarmUpAsync(["app/s0", "app/s1", "app/s2"])).Loaded);
        for (var i = 0; i < 3; i++)
        {
            Aws.DeleteSecret($"app/s{i}", forceDeleteWithoutRecovery: true); // from now on only Redis has these three
        }

        var result = await second.WarmUpAsync(["app/s0", "app/s1", "app/s2", "app/s3", "app/s4", "app/s5"]);

        Assert.Equal(6, result.Loaded);
        Assert.Equal("value-0", await second.GetStringAsync("app/s0"));
        Assert.Equal("value-4", await second.GetStringAsync("app/s4"));
        // And what the second fetched is in Redis for a third.
        var third = await Fleet.StartAsync();
        Aws.Requests.Reset();
        Assert.Equal(6, (await third.WarmUpAsync(["app/s0", "app/s1", "app/s2", "app/s3", "app/s4", "app/s5"])).Loaded);
        Assert.Empty(Aws.Requests.Snapshot());
    }

    [RedisFact]
    public async Task A_forced_refresh_bypasses_the_second_level_and_overwrites_it()
    {
        Aws.CreateSecret("app/db", "v1");
        var first = await Fleet.StartAsync();
        var second = await Fleet.StartAsync();
        Assert.Equal("v1", await first.GetStringAsync("app/db"));
        Aws.PutSecretValue("app/db", "v2");

        Assert.Equal("v2", (await first.RefreshAsync("app/db")).GetString());
        Assert.Equal(2, Aws.Requests.Count(GetSecretValue));
        Assert.Equal("v2", await second.GetStringAsync("app/db")); // from Redis, as the refresh wrote it
        Assert.Equal(2, Aws.Requests.Count(GetSecretValue));
    }
}
