using SecretsCache.Redis.Tests.Support;

namespace SecretsCache.Redis.Tests.Provider;

/// <summary>
/// The keys the backplane resolves messages against are the keys the L1 holds: bounded by MaxEntries, and released when
/// an entry is evicted, invalidated here or by another instance, or dropped by InvalidateAll.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class TrackedKeysTests(RedisServer server) : FleetProviderTests(server)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [RedisFact]
    public async Task The_backplane_tracks_no_more_keys_than_the_L1_holds_however_many_it_ever_read()
    {
        for (var i = 0; i < 16; i++)
        {
            Aws.CreateSecret($"app/s{i}", $"value-{i}");
        }

        var provider = await Fleet.StartAsync(o => o.MaxEntries = 4);
        var backplane = FleetProviders.LevelOf(provider).Backplane;
        for (var i = 0; i < 16; i++)
        {
            Assert.Equal($"value-{i}", await provider.GetStringAsync($"app/s{i}"));
            Assert.InRange(backplane.TrackedCount, 1, 4);
        }

        Assert.Equal(provider.Count, backplane.TrackedCount);
        Assert.True(backplane.IsTracked("sm:app/s15")); // the last one read is held, and so tracked
        Assert.False(backplane.IsTracked("sm:app/s0"));
    }

    [RedisFact]
    public async Task Invalidations_here_or_announced_and_InvalidateAll_release_the_keys()
    {
        Aws.CreateSecret("app/a", "a");
        Aws.CreateSecret("app/b", "b");
        Aws.CreateSecret("app/c", "c");
        var (one, other) = (await Fleet.StartAsync(), await Fleet.StartAsync());
        var backplane = FleetProviders.LevelOf(one).Backplane;
        foreach (var name in new[] { "app/a", "app/b", "app/c" })
        {
            await one.GetStringAsync(name);
        }

        Assert.Equal(3, backplane.TrackedCount);

        one.Invalidate("app/a");
        Assert.False(backplane.IsTracked("sm:app/a"));

        var dropped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        one.GetChangeToken("app/b").RegisterChangeCallback(_ => dropped.TrySetResult(), null);
        other.Invalidate("app/b"); // announced: applied on this instance, which drops the key
        await dropped.Task.WaitAsync(Bound);
        Assert.False(backplane.IsTracked("sm:app/b"));
        Assert.True(backplane.IsTracked("sm:app/c"));

        one.InvalidateAll();
        Assert.Equal(0, backplane.TrackedCount);

        // Read again, it is tracked again: messages about it still arrive.
        Assert.Equal("c", await one.GetStringAsync("app/c"));
        Assert.True(backplane.IsTracked("sm:app/c"));
    }

    [RedisFact]
    public async Task Under_concurrent_reads_evictions_and_invalidations_the_tracked_keys_end_as_exactly_the_held_ones()
    {
        const int Keys = 8;
        for (var i = 0; i < Keys; i++)
        {
            Aws.CreateSecret($"app/h{i}", $"value-{i}");
        }

        var provider = await Fleet.StartAsync(o => o.MaxEntries = 3);
        var composition = FleetProviders.Of(provider);
        var backplane = FleetProviders.LevelOf(provider).Backplane;
        await Task.WhenAll(Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            for (var n = 0; n < 150; n++)
            {
                var name = $"app/h{random.Next(Keys)}";
                if (random.Next(4) == 0)
                {
                    provider.Invalidate(name);
                }
                else
                {
                    await provider.GetStringAsync(name);
                }
            }
        }))).WaitAsync(TimeSpan.FromMinutes(2));

        for (var i = 0; i < Keys; i++)
        {
            var key = $"sm:app/h{i}";
            Assert.True(composition.HeldByEngine(key) == backplane.IsTracked(key), $"{key}: held {composition.HeldByEngine(key)}, tracked {backplane.IsTracked(key)}");
        }

        Assert.InRange(backplane.TrackedCount, 0, 3);
    }
}
