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
public sealed class ReadThroughTests(RedisServer server) : IAsyncLifetime
{
    private const string GetSecretValue = "secretsmanager.GetSecretValue";
    private AwsEmulator _aws = null!;
    private FleetProviders _fleet = null!;

    public async Task InitializeAsync()
    {
        _aws = await AwsEmulator.StartAsync();
        _fleet = new FleetProviders(server, _aws);
    }

    public async Task DisposeAsync()
    {
        _fleet.Dispose();
        await _aws.DisposeAsync();
    }

    [RedisFact]
    public async Task A_second_provider_reads_what_the_first_fetched_from_the_second_level_without_calling_AWS()
    {
        _aws.CreateSecret("app/db", "from-aws");
        _aws.PutParameter("/app/flag", "on");
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        var first = await _fleet.StartAsync();
        var second = await _fleet.StartAsync(meters: meters);
        using var hits = new MetricCollector<long>(meters, SecretsCacheTelemetry.MeterName, "secretscache.l2.hits");

        Assert.Equal("from-aws", await first.GetStringAsync("app/db"));
        Assert.Equal("on", await first.GetStringAsync("ssm:/app/flag"));
        var calls = _aws.Requests.Snapshot().Count;

        var secret = await second.GetAsync("app/db");
        Assert.Equal("from-aws", secret.GetString());
        Assert.Equal("on", await second.GetStringAsync("ssm:/app/flag"));
        Assert.Equal(calls, _aws.Requests.Snapshot().Count);
        Assert.Equal(1, _aws.Requests.Count(GetSecretValue));
        Assert.Equal(2, hits.GetMeasurementSnapshot().Count);
        Assert.NotNull(secret.VersionId);
        Assert.Equal(["AWSCURRENT"], secret.VersionStages);
    }

    [RedisFact]
    public async Task Five_providers_each_on_its_own_connection_reading_one_key_at_once_make_one_AWS_call()
    {
        _aws.CreateSecret("app/hot", "once");
        var providers = await _fleet.StartManyAsync(5);
        _aws.Faults.Latency = TimeSpan.FromMilliseconds(300); // the holder is still fetching when the others look

        var values = await Task.WhenAll(providers.Select(p => Task.Run(() => p.GetStringAsync("app/hot").AsTask())));

        Assert.All(values, v => Assert.Equal("once", v));
        Assert.Equal(1, _aws.Requests.Count(GetSecretValue));
    }

    [RedisFact]
    public async Task A_warm_up_reads_the_second_level_and_fetches_only_what_it_lacks()
    {
        for (var i = 0; i < 6; i++)
        {
            _aws.CreateSecret($"app/s{i}", $"value-{i}");
        }

        var first = await _fleet.StartAsync();
        var second = await _fleet.StartAsync();
        Assert.Equal(3, (await first.WarmUpAsync(["app/s0", "app/s1", "app/s2"])).Loaded);
        for (var i = 0; i < 3; i++)
        {
            _aws.DeleteSecret($"app/s{i}", forceDeleteWithoutRecovery: true); // from now on only Redis has these three
        }

        var result = await second.WarmUpAsync(["app/s0", "app/s1", "app/s2", "app/s3", "app/s4", "app/s5"]);

        Assert.Equal(6, result.Loaded);
        Assert.Equal("value-0", await second.GetStringAsync("app/s0"));
        Assert.Equal("value-4", await second.GetStringAsync("app/s4"));
        // And what the second fetched is in Redis for a third.
        var third = await _fleet.StartAsync();
        _aws.Requests.Reset();
        Assert.Equal(6, (await third.WarmUpAsync(["app/s0", "app/s1", "app/s2", "app/s3", "app/s4", "app/s5"])).Loaded);
        Assert.Empty(_aws.Requests.Snapshot());
    }

    [RedisFact]
    public async Task A_forced_refresh_bypasses_the_second_level_and_overwrites_it()
    {
        _aws.CreateSecret("app/db", "v1");
        var first = await _fleet.StartAsync();
        var second = await _fleet.StartAsync();
        Assert.Equal("v1", await first.GetStringAsync("app/db"));
        _aws.PutSecretValue("app/db", "v2");

        Assert.Equal("v2", (await first.RefreshAsync("app/db")).GetString());
        Assert.Equal(2, _aws.Requests.Count(GetSecretValue));
        Assert.Equal("v2", await second.GetStringAsync("app/db")); // from Redis, as the refresh wrote it
        Assert.Equal(2, _aws.Requests.Count(GetSecretValue));
    }
}
