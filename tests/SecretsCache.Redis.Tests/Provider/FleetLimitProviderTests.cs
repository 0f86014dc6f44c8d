using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using SecretsCache.Redis.Tests.Support;
using SecretsCache.Testing;

namespace SecretsCache.Redis.Tests.Provider;

/// <summary>The fleet-wide bucket in Redis is the limiter of a provider's AWS requests (ReplaceLimiter): two providers share it.</summary>
[Collection(RedisCollection.Name)]
public sealed class FleetLimitProviderTests(RedisServer server) : FleetProviderTests(server)
{
    [RedisFact]
    public async Task Requests_of_two_providers_take_tokens_from_one_fleet_bucket_and_wait_when_it_is_empty()
    {
        for (var i = 0; i < 3; i++)
        {
            Aws.CreateSecret($"app/s{i}", $"v{i}");
        }

        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        static void Slow(RedisL2Options o) => o.FleetRateLimits.SecretsManagerRequestsPerSecond = 2; // a bucket of one token, about one a second
        var a = await Fleet.StartAsync(configureRedis: Slow, meters: meters);
        var b = await Fleet.StartAsync(configureRedis: Slow, meters: meters);
        using var waits = new MetricCollector<long>(meters, SecretsCacheTelemetry.MeterName, "secretscache.fleet_limiter.waits");

        Assert.Equal("v0", await a.GetStringAsync("app/s0"));
        Assert.Equal("v1", await b.GetStringAsync("app/s1"));
        Assert.Equal("v2", await a.GetStringAsync("app/s2"));

        // Each provider alone had a token for its first read; only a shared bucket makes the second and third wait.
        Assert.True(waits.GetMeasurementSnapshot().Count >= 2, $"{waits.GetMeasurementSnapshot().Count} waits");
        Assert.All(waits.GetMeasurementSnapshot(), m => Assert.Equal("sm", m.Tags["secretscache.fleet.quota"]));
        await using var admin = await Server.ConnectAdminAsync();
        Assert.True(await admin.GetDatabase().KeyExistsAsync($"sc:{Fleet.Namespace}:rl:sm"));
    }
}
