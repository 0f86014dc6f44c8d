using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Caching;

/// <summary>
/// The size bound: with <see cref="SecretsCacheOptions.MaxEntries"/> = N the cache never settles above N entries, and it
/// evicts the least recently read first.
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
    public async Task The_least_recently_read_keys_are_evicted_first()
    {
        using var cache = CacheHarness.Create(o => o.MaxEntries = 10);
        for (var i = 0; i < 10; i++)
        {
            cache.Source.Set($"app/key{i}", "v");
            await cache.ReadAsync($"app/key{i}");
            cache.Time.Advance(Tick);
        }

        await cache.ReadAsync("app/key0"); // now the most recently read
        await cache.ReadAsync("app/key1");
        cache.Time.Advance(Tick);
        cache.Source.Set("app/new", "v");
        await cache.ReadAsync("app/new"); // the 11th entry: evicts down to 90% (9), so the two least recently read go

        Assert.Equal(9, cache.Provider.Count);
        var callsBefore = cache.Source.Calls;
        foreach (var survivor in new[] { "app/key0", "app/key1", "app/key4", "app/key9", "app/new" })
        {
            await cache.ReadAsync(survivor);
        }

        Assert.Equal(callsBefore, cache.Source.Calls); // all hits
        await cache.ReadAsync("app/key2");
        Assert.Equal(callsBefore + 1, cache.Source.Calls); // evicted, so fetched again
    }

    [Fact]
    public async Task Evictions_are_counted_in_the_metric_with_source_and_kind_tags()
    {
        using var meters = new TestMeterFactory();
        using var metrics = new MetricCollector(meters);
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
