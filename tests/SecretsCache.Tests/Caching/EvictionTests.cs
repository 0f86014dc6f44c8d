using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Caching;

/// <summary>
/// The size bound: with <see cref="SecretsCacheOptions.MaxEntries"/> = N the cache never settles above N entries; each insert
/// past it evicts one entry, the least recently used of a sample (CacheEngine.Eviction.cs).
/// </summary>
public sealed class EvictionTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromTicks(1);

    [Fact]
    public async Task Inserting_many_keys_keeps_Count_within_MaxEntries()
    {
        using var cache = CacheHarness.Create(o => o.MaxEntries = 10);
        for (var i = 0; i < 100; i++)
        {
            cache.Source.Set($"app/key{i}", "v");
            await cache.ReadAsync($"app/key{i}");
            cache.Time.Advance(Tick);

            Assert.InRange(cache.Provider.Count, 1, 10);
        }
    }

    [Fact]
    public async Task Each_insert_past_the_bound_evicts_one_entry()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        using var metrics = new CacheMetrics(meters);
        using var cache = CacheHarness.Create(o => o.MaxEntries = 10, meters: meters);
        for (var i = 0; i < 25; i++)
        {
            cache.Source.Set($"app/key{i}", "v");
            await cache.ReadAsync($"app/key{i}");

            Assert.Equal(Math.Min(i + 1, 10), cache.Provider.Count); // full means full: no batch down to a lower mark
            Assert.Equal(Math.Max(0, i + 1 - 10), metrics.Of("secretscache.cache.evictions").Sum(m => m.Value));
        }
    }

    [Fact]
    public async Task Keys_read_between_inserts_are_never_evicted_while_keys_read_once_come_and_go()
    {
        using var cache = CacheHarness.Create(o => o.MaxEntries = 20);
        var hot = Enumerable.Range(0, 5).Select(i => $"app/hot{i}").ToArray();
        foreach (var key in hot)
        {
            cache.Source.Set(key, "h");
            await cache.ReadAsync(key);
        }

        for (var i = 0; i < 300; i++)
        {
            foreach (var key in hot)
            {
                await cache.ReadAsync(key); // hits: each marks its entry used before the next insert
            }

            cache.Source.Set($"app/cold{i}", "c");
            await cache.ReadAsync($"app/cold{i}");
            Assert.InRange(cache.Provider.Count, 1, 20);
        }

        Assert.All(hot, key => Assert.Equal(1, cache.Source.FetchesOf(key))); // never evicted, so never fetched again
        Assert.Equal(20, cache.Provider.Count);
        var callsBefore = cache.Source.Calls;
        await cache.ReadAsync("app/cold0");
        Assert.Equal(callsBefore + 1, cache.Source.Calls); // a key read once went long ago
    }

    [Fact]
    public async Task In_a_cache_no_larger_than_the_sample_the_least_recently_read_key_goes_first()
    {
        using var cache = CacheHarness.Create(o => o.MaxEntries = 10);
        for (var i = 0; i < 10; i++)
        {
            cache.Source.Set($"app/key{i}", "v");
            await cache.ReadAsync($"app/key{i}");
        }

        await cache.ReadAsync("app/key0"); // now the most recently read
        await cache.ReadAsync("app/key1");
        cache.Source.Set("app/new", "v");
        await cache.ReadAsync("app/new"); // the 11th entry: one goes, the least recently read (app/key2)

        Assert.Equal(10, cache.Provider.Count);
        var callsBefore = cache.Source.Calls;
        foreach (var survivor in new[] { "app/key0", "app/key1", "app/key3", "app/key4", "app/key9", "app/new" })
        {
            await cache.ReadAsync(survivor);
        }

        Assert.Equal(callsBefore, cache.Source.Calls); // all hits
        await cache.ReadAsync("app/key2");
        Assert.Equal(callsBefore + 1, cache.Source.Calls); // evicted, so fetched again
    }

    [Fact]
    public async Task A_key_watched_between_inserts_counts_as_used()
    {
        using var cache = CacheHarness.Create(o => o.MaxEntries = 10);
        cache.Source.Set("app/watched", "w");
        await cache.ReadAsync("app/watched"); // read once: not yet protected
        var first = cache.Provider.GetChangeToken("app/watched");
        for (var i = 0; i < 100; i++)
        {
            _ = cache.Provider.GetChangeToken("app/watched"); // watching is using
            cache.Source.Set($"app/cold{i}", "c");
            await cache.ReadAsync($"app/cold{i}");
        }

        await cache.ReadAsync("app/watched");
        Assert.Equal(1, cache.Source.FetchesOf("app/watched")); // a hit: never evicted
        Assert.False(first.HasChanged);
    }

    [Fact]
    public async Task Evictions_are_counted_in_the_metric_with_source_and_kind_tags()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        using var metrics = new CacheMetrics(meters);
        using var cache = CacheHarness.Create(o => o.MaxEntries = 10, meters: meters);
        for (var i = 0; i < 50; i++)
        {
            cache.Source.Set($"app/key{i}", "v");
            cache.Source.Set($"ssm:/app/param{i}", "v");
            await cache.ReadAsync($"app/key{i}");
            await cache.ReadAsync($"ssm:/app/param{i}");
            cache.Time.Advance(Tick);
        }

        var evictions = metrics.Of("secretscache.cache.evictions");
        Assert.Equal(100 - cache.Provider.Count, evictions.Sum(m => m.Value));
        Assert.All(evictions, m => Assert.NotNull(m.Tag("secretscache.source")));
        Assert.Contains(evictions, m => (string?)m.Tag("secretscache.kind") == "secret");
        Assert.Contains(evictions, m => (string?)m.Tag("secretscache.kind") == "parameter");
    }

    [Fact]
    public async Task Concurrent_inserts_keep_the_bound_and_an_exact_count()
    {
        using var cache = CacheHarness.Create(o => o.MaxEntries = 50);
        for (var i = 0; i < 2_000; i++)
        {
            cache.Source.Set($"app/key{i}", "v");
        }

        await Task.WhenAll(Concurrently.Start(2_000, i => cache.ReadAsync($"app/key{i}")));

        Assert.InRange(cache.Provider.Count, 1, 50);
        var health = cache.Provider.GetHealth();
        Assert.Equal(cache.Provider.Count, health.Entries); // the counter matches the entries really held
        Assert.Equal(health.Entries, health.Fresh + health.Expired);
    }

    [Fact]
    public async Task Inserts_hammered_from_many_threads_stay_within_the_bound_and_release_what_evicted_entries_held()
    {
        const int Threads = 8, KeysPerThread = 400, MaxEntries = 100;

        // The documented slack (CacheEngine.Eviction.cs): each insert in progress may hold one entry past the bound until it
        // has evicted, so the count never passes MaxEntries by more than the threads inserting at that moment.
        const int Slack = Threads;
        using var cache = CacheHarness.Create(o =>
        {
            o.MaxEntries = MaxEntries;
            o.MinForcedRefreshInterval = TimeSpan.Zero;
        });
        for (var t = 0; t < Threads; t++)
        {
            for (var i = 0; i < KeysPerThread; i++)
            {
                cache.Source.Set($"app/t{t}-k{i}", "one");
            }
        }

        var tokens = new ConcurrentBag<IChangeToken>();
        var most = 0;
        await Task.WhenAll(Concurrently.Start(Threads, async t =>
        {
            for (var i = 0; i < KeysPerThread; i++)
            {
                var plain = $"app/t{t}-k{i}";
                await cache.ReadAsync(plain);        // an entry, under its canonical key and this alias
                await cache.ReadAsync("sm:" + plain); // its canonical text
                if (i % 4 == 0)
                {
                    tokens.Add(cache.Provider.GetChangeToken(plain)); // a change-token source on the entry
                }

                if (i % 8 == 0)
                {
                    cache.Source.Set(plain, "two");
                    await cache.Provider.RefreshAsync(plain); // a version change: an announced version on the entry
                }

                for (int seen = cache.Provider.Count, old = Volatile.Read(ref most); seen > old; old = Volatile.Read(ref most))
                {
                    if (Interlocked.CompareExchange(ref most, seen, old) == old)
                    {
                        break;
                    }
                }
            }

            return t;
        }));

        Assert.InRange(most, MaxEntries, MaxEntries + Slack);
        var count = cache.Provider.Count;
        Assert.InRange(count, 1, MaxEntries);
        Assert.Equal(count, cache.Provider.GetHealth().Entries);

        // What evicted entries held is gone with them: index keys (aliases), change-token sources, announced versions.
        Assert.InRange(cache.Provider.Engine.IndexSize, count, 2 * count);
        Assert.Equal(count, cache.Provider.Engine.UseCellsInUse); // each evicted entry gave its use cell back
        var (changeTokens, announced) = cache.Provider.ChangeTrackingSizes;
        Assert.InRange(changeTokens, 0, count);
        Assert.InRange(announced, 0, count);
        Eventually.True(() => tokens.Count(token => !token.HasChanged) <= cache.Provider.Count, "every token of an evicted reference fired");
    }

    [Fact]
    public async Task A_bound_of_one_keeps_just_the_latest_key()
    {
        using var cache = CacheHarness.Create(o => o.MaxEntries = 1);
        cache.Source.Set("app/a", "a");
        cache.Source.Set("app/b", "b");

        await cache.ReadAsync("app/a");
        await cache.ReadAsync("app/b");

        Assert.Equal(1, cache.Provider.Count);
        Assert.Equal("b", await cache.ReadAsync("app/b"));
        Assert.Equal(2, cache.Source.Calls);
    }

    [Fact]
    public async Task A_read_waiting_on_an_evicted_key_still_gets_its_value()
    {
        using var cache = CacheHarness.Create(o => o.MaxEntries = 1);
        cache.Source.Set("app/a", "a");
        cache.Source.Set("app/b", "b");
        cache.Source.Hold();

        var waiting = cache.ReadAsync("app/a");
        cache.Source.Release();
        cache.Source.Hold();
        Assert.Equal("a", await waiting);
        var other = cache.ReadAsync("app/b"); // evicts app/a
        cache.Source.Release();

        Assert.Equal("b", await other);
        Assert.Equal(1, cache.Provider.Count);
    }
}
