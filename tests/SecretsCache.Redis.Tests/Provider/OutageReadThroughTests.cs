using Microsoft.Extensions.Time.Testing;
using SecretsCache.Redis.Tests.Support;

namespace SecretsCache.Redis.Tests.Provider;

/// <summary>
/// With the second level, a reader holding a stale value that waits on the refresh is answered as soon as the refresh's
/// AWS attempt fails as an outage: the read-through source passes the AWS source's news on. The provider's clock is fake
/// and never moves while the reader waits (so <see cref="SecretsCacheOptions.StaleFallbackTimeout"/> cannot answer it);
/// the emulator's latency is real time, so the attempt is still out when the reader starts waiting.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class OutageReadThroughTests(RedisServer server) : FleetProviderTests(server)
{
    private const string GetSecretValue = "secretsmanager.GetSecretValue";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [RedisFact]
    public async Task A_stale_reader_waiting_on_a_read_through_refresh_is_answered_when_the_AWS_attempt_fails()
    {
        Aws.CreateSecret("app/db", "v1");
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow()); // near the real time: the emulator checks signatures' dates
        var provider = await Fleet.StartAsync(
            o =>
            {
                o.DefaultTtl = TimeSpan.FromMinutes(1);
                o.TtlJitter = 0;
                o.RefreshAheadFraction = 1;
                o.StaleFallbackTimeout = TimeSpan.FromSeconds(10);
            },
            time: time);
        Assert.Equal("v1", await provider.GetStringAsync("app/db"));
        time.Advance(TimeSpan.FromSeconds(61)); // the instance's copy and the Redis entry (the same fetch) expire
        Aws.Faults.FailAll(503);
        Aws.Faults.Latency = TimeSpan.FromSeconds(1);
        var answered = Aws.Requests.Count(GetSecretValue);
        var before = time.GetUtcNow();

        var read = provider.GetStringAsync("app/db").AsTask();
        Assert.False(read.IsCompleted);
        Assert.Equal(answered, Aws.Requests.Count(GetSecretValue)); // the refresh's attempt is still out: nothing known yet

        Assert.Equal("v1", await read.WaitAsync(Bound));
        Assert.Equal(before, time.GetUtcNow());
        Assert.True(Aws.Requests.Count(GetSecretValue) > answered); // answered by the attempt's 503, not by Redis
    }
}
