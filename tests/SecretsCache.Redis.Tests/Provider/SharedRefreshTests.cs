using Microsoft.Extensions.Time.Testing;
using SecretsCache.Redis.Tests.Support;

namespace SecretsCache.Redis.Tests.Provider;

/// <summary>
/// A value shared through Redis refreshes on the fleet's schedule (<see cref="RedisL2Options.RefreshAheadFraction"/>, no
/// jitter): every instance at the same moment, so one fetch serves the fleet. With each instance's own jittered schedule the
/// fleet would refresh when its earliest instance does, more often the larger it is.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class SharedRefreshTests(RedisServer server) : FleetProviderTests(server)
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(1);

    [RedisFact]
    public async Task Four_instances_with_jittered_schedules_refresh_a_shared_value_once_at_the_fleet_fraction()
    {
        Aws.CreateSecret("app/db", "v1");
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow()); // near the real time: the emulator checks signatures' dates
        var providers = new SecretProvider[4];
        for (var i = 0; i < providers.Length; i++)
        {
            // The provider's own schedule would refresh between 0.8 x 0.9 and 0.8 of the minute: 43.2 to 48 s.
            providers[i] = await Fleet.StartAsync(o => { o.DefaultTtl = Ttl; o.TtlJitter = 0.1; o.RefreshAheadFraction = 0.8; }, time: time);
        }

        foreach (var provider in providers)
        {
            Assert.Equal("v1", await provider.GetStringAsync("app/db"));
        }

        Assert.Equal(1, SecretsManagerCalls());

        time.Advance(TimeSpan.FromSeconds(50)); // past every instance's own refresh point, before the fleet's (0.95: 57 s)
        foreach (var provider in providers)
        {
            Assert.Equal("v1", await provider.GetStringAsync("app/db"));
        }

        // A new version, which only a fetch from AWS finds: the refresh at 57.5 s brings it to the whole fleet.
        Aws.PutSecretValue("app/db", "v2");
        time.Advance(TimeSpan.FromSeconds(7.5));
        foreach (var provider in providers)
        {
            Assert.Equal("v1", await provider.GetStringAsync("app/db")); // served; refreshed in the background, for the fleet
        }

        // Had the instances refreshed at 50 s, on their own schedules, their values would be fresh now and v2 would not come.
        await Wait.UntilAsync(() => providers.All(p => p.TryGetCached("app/db", out var held) && held.GetString() == "v2"));
        Assert.Equal(2, SecretsManagerCalls());
    }

    [RedisFact]
    public void The_fleet_fraction_is_validated()
    {
        Assert.Contains(Fleet.RedisOptions(o => o.RefreshAheadFraction = 0).Validate(), e => e.StartsWith("RefreshAheadFraction", StringComparison.Ordinal));
        Assert.Contains(Fleet.RedisOptions(o => o.RefreshAheadFraction = double.NaN).Validate(), e => e.StartsWith("RefreshAheadFraction", StringComparison.Ordinal));
        Assert.Contains(Fleet.RedisOptions(o => o.RefreshAheadFraction = 1.5).Validate(), e => e.StartsWith("RefreshAheadFraction", StringComparison.Ordinal));
        Assert.Empty(Fleet.RedisOptions(o => o.RefreshAheadFraction = 1).Validate());
    }

    private int SecretsManagerCalls() =>
        Aws.Requests.Count("secretsmanager.GetSecretValue") + Aws.Requests.Count("secretsmanager.DescribeSecret");
}
