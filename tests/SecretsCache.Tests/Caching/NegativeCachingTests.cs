using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Caching;

/// <summary>Negative caching: a not-found answer is authoritative, cached for <see cref="SecretsCacheOptions.NegativeTtl"/>, then re-checked.</summary>
public sealed class NegativeCachingTests
{
    [Fact]
    public async Task Not_found_is_cached_for_NegativeTtl_then_checked_again()
    {
        using var cache = CacheHarness.Create(o => o.NegativeTtl = TimeSpan.FromSeconds(30));

        var first = await Assert.ThrowsAsync<SecretNotFoundException>(() => cache.ReadAsync("app/db"));
        Assert.Equal("sm:app/db", first.Reference);
        var outcomes = await Concurrently.RunAsync(500, _ => cache.ReadAsync("app/db"));
        Assert.All(outcomes, o => Assert.IsType<SecretNotFoundException>(o.Error));
        cache.Source.Set("app/db", "created");
        cache.Time.Advance(TimeSpan.FromSeconds(30) - TimeSpan.FromTicks(1));
        await Assert.ThrowsAsync<SecretNotFoundException>(() => cache.ReadAsync("app/db"));
        Assert.Equal(1, cache.Source.Calls);

        cache.Time.Advance(TimeSpan.FromTicks(1));

        Assert.Equal("created", await cache.ReadAsync("app/db"));
        Assert.Equal(2, cache.Source.Calls);
    }

    [Fact]
    public async Task A_key_that_becomes_not_found_drops_its_old_value_even_within_MaxStaleness()
    {
        using var cache = CacheHarness.Create(o => o.MaxStaleness = TimeSpan.FromHours(1));
        cache.Source.Set("app/db", "one");
        await cache.ReadAsync("app/db");
        cache.Source.Remove("app/db");
        cache.Time.Advance(cache.Options.DefaultTtl);

        await Assert.ThrowsAsync<SecretNotFoundException>(() => cache.ReadAsync("app/db"));
        await Assert.ThrowsAsync<SecretNotFoundException>(() => cache.ReadAsync("app/db"));

        Assert.Equal(2, cache.Source.Calls);
        var health = cache.Provider.GetHealth();
        Assert.Equal((1, 0, 0), (health.Entries, health.Fresh, health.Expired)); // the old value is gone, not kept as stale
    }

    [Fact]
    public async Task A_refresh_ahead_that_finds_the_key_gone_drops_the_value_at_once()
    {
        using var cache = CacheHarness.Create(o => o.RefreshAheadFraction = 0.5);
        cache.Source.Set("app/db", "one");
        await cache.ReadAsync("app/db");
        cache.Source.Remove("app/db");
        cache.Time.Advance(cache.Options.DefaultTtl / 2);

        Assert.Equal("one", await cache.ReadAsync("app/db")); // the hit that starts the refresh

        await Assert.ThrowsAsync<SecretNotFoundException>(() => cache.ReadAsync("app/db"));
        Assert.Equal(2, cache.Source.Calls);
    }

    [Fact]
    public async Task Invalidate_forgets_a_cached_not_found()
    {
        using var cache = CacheHarness.Create();
        await Assert.ThrowsAsync<SecretNotFoundException>(() => cache.ReadAsync("app/db"));
        cache.Source.Set("app/db", "created");

        cache.Provider.Invalidate("app/db");

        Assert.Equal("created", await cache.ReadAsync("app/db"));
    }

    [Fact]
    public async Task A_NegativeTtl_of_zero_checks_every_time()
    {
        using var cache = CacheHarness.Create(o => o.NegativeTtl = TimeSpan.Zero);

        for (var i = 1; i <= 3; i++)
        {
            await Assert.ThrowsAsync<SecretNotFoundException>(() => cache.ReadAsync("app/db"));
            Assert.Equal(i, cache.Source.Calls);
        }
    }
}
