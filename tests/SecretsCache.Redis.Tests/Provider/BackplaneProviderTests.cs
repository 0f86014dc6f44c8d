using Microsoft.Extensions.Time.Testing;
using SecretsCache.Redis.Tests.Support;
using SecretsCache.Testing;

namespace SecretsCache.Redis.Tests.Provider;

/// <summary>
/// The backplane through whole providers: a rotation one instance sees is served by every instance, each raising
/// SecretChanged, with no AWS call of their own and no echo back to the one that saw it; invalidations reach every instance.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class BackplaneProviderTests(RedisServer server) : FleetProviderTests(server)
{
    private const string GetSecretValue = "secretsmanager.GetSecretValue";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    [RedisFact]
    public async Task A_rotation_refreshed_by_one_provider_is_served_by_the_others_which_raise_SecretChanged()
    {
        Aws.CreateSecret("app/db", "v1");
        var providers = await Fleet.StartManyAsync(3);
        foreach (var provider in providers)
        {
            Assert.Equal("v1", await provider.GetStringAsync("app/db"));
        }

        Assert.Equal(1, Aws.Requests.Count(GetSecretValue));
        var changed = providers.Select(p =>
        {
            var seen = new TaskCompletionSource<SecretChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
            p.SecretChanged += (_, e) => seen.TrySetResult(e);
            return seen;
        }).ToArray();
        var echoes = 0;
        FleetProviders.LevelOf(providers[0]).Backplane.Received += (_, _) => Interlocked.Increment(ref echoes);
        var newVersion = Aws.PutSecretValue("app/db", "v2");

        Assert.Equal("v2", (await providers[0].RefreshAsync("app/db")).GetString());

        foreach (var seen in changed)
        {
            var e = await seen.Task.WaitAsync(Bound);
            Assert.Equal(("sm:app/db", newVersion), (e.Reference, e.NewVersion));
        }

        foreach (var provider in providers)
        {
            Assert.Equal("v2", await provider.GetStringAsync("app/db"));
        }

        Assert.Equal(2, Aws.Requests.Count(GetSecretValue)); // the refresh; the others read Redis
        Assert.Equal(0, Volatile.Read(ref echoes));
    }

    [RedisFact]
    public async Task Invalidate_on_one_provider_drops_the_key_everywhere_and_the_next_read_goes_to_AWS()
    {
        Aws.CreateSecret("app/db", "v1");
        var (a, b) = (await Fleet.StartAsync(), await Fleet.StartAsync());
        Assert.Equal("v1", await a.GetStringAsync("app/db"));
        Assert.Equal("v1", await b.GetStringAsync("app/db"));
        var dropped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        b.GetChangeToken("app/db").RegisterChangeCallback(_ => dropped.TrySetResult(), null);
        Aws.PutSecretValue("app/db", "v2");

        a.Invalidate("app/db");

        await dropped.Task.WaitAsync(Bound);
        Assert.Equal("v2", await b.GetStringAsync("app/db")); // not the old value from Redis: it was removed there too
        Assert.Equal(2, Aws.Requests.Count(GetSecretValue));
        Assert.Equal("v2", await a.GetStringAsync("app/db")); // written back by b's fetch
        Assert.Equal(2, Aws.Requests.Count(GetSecretValue));
    }

    [RedisFact]
    public async Task InvalidateAll_on_one_provider_empties_every_provider_and_the_second_level()
    {
        Aws.CreateSecret("app/one", "1");
        Aws.CreateSecret("app/two", "2");
        var (a, b) = (await Fleet.StartAsync(), await Fleet.StartAsync());
        await a.WarmUpAsync(["app/one", "app/two"]);
        await b.WarmUpAsync(["app/one", "app/two"]);
        var dropped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        b.GetChangeToken("app/two").RegisterChangeCallback(_ => dropped.TrySetResult(), null);
        var before = Aws.Requests.Snapshot().Count;

        a.InvalidateAll();

        await dropped.Task.WaitAsync(Bound);
        Assert.Equal(0, b.Count);
        Assert.Equal("1", await b.GetStringAsync("app/one"));
        Assert.True(Aws.Requests.Snapshot().Count > before); // Redis had nothing left
    }

    [RedisFact]
    public async Task A_version_change_seen_at_expiry_is_announced_to_the_instances_still_holding_the_old_version()
    {
        Aws.CreateSecret("app/db", "v1");
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow()); // near the real time: the emulator checks signatures' dates
        var a = await Fleet.StartAsync(o => o.TtlByReference["app/db"] = TimeSpan.FromMinutes(1), time: time);
        var b = await Fleet.StartAsync(time: time);
        Assert.Equal("v1", await a.GetStringAsync("app/db"));
        Assert.Equal("v1", await b.GetStringAsync("app/db"));
        var changed = new TaskCompletionSource<SecretChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        b.SecretChanged += (_, e) => changed.TrySetResult(e);
        var version = Aws.PutSecretValue("app/db", "v2");

        // a's copy and the Redis entry (a's one-minute TTL, from the same fetch) expire; b's five minutes do not.
        time.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal("v2", await a.GetStringAsync("app/db"));

        Assert.Equal(version, (await changed.Task.WaitAsync(Bound)).NewVersion);
        Assert.Equal("v2", await b.GetStringAsync("app/db"));
        Assert.Equal(2, Aws.Requests.Count(GetSecretValue));
    }
}
