using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Caching;

/// <summary>Invalidation drops cached values so the next read fetches; RefreshAsync fetches now, joining a fetch under way.</summary>
public sealed class InvalidationTests
{
    [Theory]
    [InlineData("app/db")]
    [InlineData("sm:app/db")]
    [InlineData("sm:app/db?stage=AWSCURRENT")]
    public async Task Invalidate_in_any_spelling_makes_the_next_read_fetch(string spelling)
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/db", "one");
        await cache.ReadAsync("app/db");
        cache.Source.Set("app/db", "two");

        cache.Provider.Invalidate(spelling);

        Assert.Equal(0, cache.Provider.Count);
        Assert.Equal("two", await cache.ReadAsync("app/db"));
        Assert.Equal(2, cache.Source.Calls);
    }

    [Theory]
    [InlineData("app/db", "sm:app/db")]
    [InlineData("sm:app/db", "app/db")]
    public async Task A_refresh_read_through_one_spelling_is_what_a_hit_through_every_other_returns(string refreshed, string other)
    {
        // A hit reads the index's slot of the spelling it was given; every spelling must see the refreshed value.
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/db", "one");
        Assert.Equal("one", await cache.ReadAsync("app/db"));
        Assert.Equal("one", await cache.ReadAsync("sm:app/db"));
        cache.Source.Set("app/db", "two");

        await cache.Provider.RefreshAsync(refreshed);

        Assert.Equal("two", await cache.ReadAsync(other));
        Assert.Equal("two", await cache.ReadAsync(refreshed));
        Assert.Equal(2, cache.Source.Calls);
    }

    [Fact]
    public async Task Invalidate_leaves_other_keys_and_other_versions_alone()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/db", "one");
        cache.Source.Set("app/db?stage=AWSPREVIOUS", "zero");
        cache.Source.Set("app/other", "x");
        await cache.ReadAsync("app/db");
        await cache.ReadAsync("app/db?stage=AWSPREVIOUS");
        await cache.ReadAsync("app/other");

        cache.Provider.Invalidate("app/db");

        await cache.ReadAsync("app/db?stage=AWSPREVIOUS");
        await cache.ReadAsync("app/other");
        Assert.Equal(3, cache.Source.Calls);
    }

    [Fact]
    public async Task Invalidate_of_an_unknown_key_is_a_no_op_and_of_a_malformed_one_an_error()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/db", "one");
        await cache.ReadAsync("app/db");

        cache.Provider.Invalidate("app/never-read");
        Assert.Throws<ArgumentException>(() => cache.Provider.Invalidate("app/not valid"));

        // Neither touched what is cached: the next read is a hit.
        Assert.Equal(1, cache.Provider.Count);
        Assert.Equal("one", Completed.HitValue(cache.Provider, "app/db"));
        Assert.Equal(1, cache.Source.Calls);
    }

    [Fact]
    public async Task InvalidateAll_makes_every_next_read_fetch()
    {
        using var cache = CacheHarness.Create();
        string[] keys = ["app/a", "ssm:/app/b", "/aws/reference/secretsmanager/app/c"];
        foreach (var key in keys)
        {
            cache.Source.Set(key, "one");
            await cache.ReadAsync(key);
        }

        cache.Provider.InvalidateAll();

        Assert.Equal(0, cache.Provider.Count);
        foreach (var key in keys)
        {
            await cache.ReadAsync(key);
        }

        Assert.Equal(6, cache.Source.Calls);
    }

    [Fact]
    public async Task RefreshAsync_fetches_now_even_when_the_value_is_fresh_and_later_reads_see_it()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/db", "one");
        await cache.ReadAsync("app/db");
        cache.Source.Set("app/db", "two");

        var refreshed = await cache.Provider.RefreshAsync("sm:app/db");

        Assert.Equal("two", refreshed.GetString());
        Assert.Equal("two", await cache.ReadAsync("app/db"));
        Assert.Equal(2, cache.Source.Calls);
    }

    [Fact]
    public async Task RefreshAsync_joins_a_fetch_under_way()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/db", "one");
        cache.Source.Hold();

        var read = cache.Provider.GetAsync("app/db").AsTask();
        var refreshes = await Task.WhenAll(Concurrently.Start(100, _ =>
        {
            var refresh = cache.Provider.RefreshAsync("app/db").AsTask();
            return Task.FromResult(refresh);
        }));
        cache.Source.Release();

        var secret = await read;
        Assert.All(await Task.WhenAll(refreshes), r => Assert.Same(secret, r));
        Assert.Equal(1, cache.Source.Calls);
    }

    [Fact]
    public async Task RefreshAsync_ignores_a_backoff_and_a_cached_not_found()
    {
        using var cache = CacheHarness.Create();
        await Assert.ThrowsAsync<SecretNotFoundException>(() => cache.ReadAsync("app/db"));
        cache.Source.Set("app/db", "created");

        Assert.Equal("created", (await cache.Provider.RefreshAsync("app/db")).GetString());
        Assert.Equal(2, cache.Source.Calls);
    }

    [Fact]
    public async Task Invalidating_during_a_fetch_does_not_fail_its_waiters_and_the_next_read_fetches_again()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/db", "one");
        cache.Source.Hold();

        var read = cache.ReadAsync("app/db");
        cache.Provider.Invalidate("app/db");
        cache.Source.Release();

        Assert.Equal("one", await read);
        Assert.Equal("one", await cache.ReadAsync("app/db"));
        Assert.Equal(2, cache.Source.Calls);
    }
}
