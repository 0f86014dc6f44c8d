using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Caching;

/// <summary>
/// Serve-stale: past its TTL, a last good value is still served while the backend fails transiently or is slow, up to
/// <see cref="SecretsCacheOptions.MaxStaleness"/> past expiry. Errors that more waiting will not fix are never masked.
/// </summary>
public sealed class ServeStaleTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan MaxStaleness = TimeSpan.FromMinutes(10);

    private static async Task<CacheHarness> CachedThenExpiredAsync(Action<SecretsCacheOptions>? configure = null)
    {
        var cache = CacheHarness.Create(o =>
        {
            o.DefaultTtl = Ttl;
            o.MaxStaleness = MaxStaleness;
            configure?.Invoke(o);
        });
        cache.Source.Set("app/db", "one");
        await cache.ReadAsync("app/db");
        cache.Source.Set("app/db", "two");
        cache.Time.Advance(Ttl);
        return cache;
    }

    [Theory]
    [InlineData(nameof(SecretThrottledException))]
    [InlineData(nameof(SecretServiceUnavailableException))]
    public async Task During_transient_failures_the_stale_value_is_served_until_MaxStaleness_past_expiry_then_the_error(string error)
    {
        using var cache = await CachedThenExpiredAsync();
        cache.Source.Fail = Errors.ByName(error);

        // Every 7 s (across fetch attempts and backoffs alike) up to one tick before the stale limit: the stale value.
        var elapsed = TimeSpan.Zero;
        while (elapsed + TimeSpan.FromSeconds(7) < MaxStaleness)
        {
            Assert.Equal("one", await cache.ReadAsync("app/db"));
            cache.Time.Advance(TimeSpan.FromSeconds(7));
            elapsed += TimeSpan.FromSeconds(7);
        }

        cache.Time.Advance(MaxStaleness - elapsed - TimeSpan.FromTicks(1));
        Assert.Equal("one", await cache.ReadAsync("app/db"));
        var callsWhileStale = cache.Source.Calls;
        Assert.InRange(callsWhileStale, 10, 100); // it kept trying, within backoff

        cache.Time.Advance(TimeSpan.FromTicks(1));
        var thrown = await Assert.ThrowsAnyAsync<SecretsCacheException>(() => cache.ReadAsync("app/db"));
        Assert.Equal(error, thrown.GetType().Name);
        Assert.True(thrown.IsTransient);

        cache.Time.Advance(TimeSpan.FromHours(2));
        Assert.Equal(error, (await Assert.ThrowsAnyAsync<SecretsCacheException>(() => cache.ReadAsync("app/db"))).GetType().Name);
    }

    [Fact]
    public async Task Once_the_backend_recovers_the_new_value_replaces_the_stale_one()
    {
        using var cache = await CachedThenExpiredAsync();
        cache.Source.Fail = Errors.Throttled;
        Assert.Equal("one", await cache.ReadAsync("app/db"));

        cache.Source.Fail = null;
        cache.Time.Advance(TimeSpan.FromMinutes(1)); // past any backoff

        Assert.Equal("two", await cache.ReadAsync("app/db"));
    }

    [Fact]
    public async Task A_non_transient_error_is_not_masked_by_a_stale_value()
    {
        using var cache = await CachedThenExpiredAsync();
        cache.Source.Fail = Errors.AccessDenied;

        await Assert.ThrowsAsync<SecretAccessDeniedException>(() => cache.ReadAsync("app/db"));
        await Assert.ThrowsAsync<SecretAccessDeniedException>(() => cache.ReadAsync("app/db")); // from the backoff, no call
        Assert.Equal(2, cache.Source.Calls);
    }

    [Fact]
    public async Task A_MaxStaleness_of_zero_turns_serve_stale_off()
    {
        using var cache = await CachedThenExpiredAsync(o => o.MaxStaleness = TimeSpan.Zero);
        cache.Source.Fail = Errors.Unavailable;

        await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => cache.ReadAsync("app/db"));
    }

    [Fact]
    public async Task A_slow_refresh_returns_the_stale_value_after_StaleFallbackTimeout_and_still_lands()
    {
        using var cache = await CachedThenExpiredAsync(o => o.StaleFallbackTimeout = TimeSpan.FromSeconds(2));
        cache.Source.Hold();

        var read = cache.ReadAsync("app/db");
        var joined = cache.ReadAsync("sm:app/db");
        Assert.False(read.IsCompleted);
        cache.Time.Advance(TimeSpan.FromSeconds(2) - TimeSpan.FromTicks(1));
        Assert.False(read.IsCompleted);
        cache.Time.Advance(TimeSpan.FromTicks(1));

        Assert.Equal("one", await read);
        Assert.Equal("one", await joined);
        Assert.Equal(2, cache.Source.Calls); // the first load, and the one slow refresh

        var refreshed = cache.Provider.RefreshAsync("app/db"); // joins the slow fetch
        cache.Source.Release();
        Assert.Equal("two", (await refreshed).GetString());
        Assert.Equal("two", await cache.ReadAsync("app/db"));
        Assert.Equal(2, cache.Source.Calls);
    }

    [Fact]
    public async Task A_StaleFallbackTimeout_of_zero_returns_the_stale_value_at_once_while_refreshing()
    {
        using var cache = await CachedThenExpiredAsync(o => o.StaleFallbackTimeout = TimeSpan.Zero);
        cache.Source.Hold();

        var stale = Completed.Result(cache.Provider.GetAsync("app/db"), "the stale value at once");

        Assert.Equal("one", stale.GetString());
        Eventually.True(() => cache.Source.Calls == 2, "the refresh to reach the source");
        var refreshed = cache.Provider.RefreshAsync("app/db");
        cache.Source.Release();
        Assert.Equal("two", (await refreshed).GetString());
        Assert.Equal("two", await cache.ReadAsync("app/db"));
        Assert.Equal(2, cache.Source.Calls);
    }

    [Fact]
    public async Task A_slow_refresh_without_a_stale_value_is_waited_for()
    {
        using var cache = CacheHarness.Create(o => o.StaleFallbackTimeout = TimeSpan.Zero);
        cache.Source.Set("app/db", "one");
        cache.Source.Hold();

        var read = cache.ReadAsync("app/db");
        cache.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.False(read.IsCompleted);
        cache.Source.Release();

        Assert.Equal("one", await read);
    }

    [Fact]
    public async Task Past_MaxStaleness_a_slow_refresh_is_waited_for_instead_of_serving_stale()
    {
        using var cache = await CachedThenExpiredAsync(o => o.StaleFallbackTimeout = TimeSpan.Zero);
        cache.Time.Advance(MaxStaleness);
        cache.Source.Hold();

        var read = cache.ReadAsync("app/db");
        Assert.False(read.IsCompleted);
        cache.Source.Release();

        Assert.Equal("two", await read);
    }

    [Fact]
    public async Task A_MaxStaleness_of_TimeSpan_MaxValue_serves_stale_for_as_long_as_the_backend_fails()
    {
        using var cache = CacheHarness.Create(o => o.MaxStaleness = TimeSpan.MaxValue);
        cache.Time.Advance(TimeSpan.FromDays(3)); // a clock that has been running a while, as a real one has
        cache.Source.Set("app/db", "one");
        await cache.ReadAsync("app/db");
        cache.Source.Fail = Errors.Unavailable;

        cache.Time.Advance(TimeSpan.FromDays(400));

        Assert.Equal("one", await cache.ReadAsync("app/db"));
    }

    [Fact]
    public async Task When_StaleFallbackTimeout_is_not_shorter_than_FetchTimeout_a_hung_refresh_serves_stale_at_the_timeout()
    {
        using var cache = await CachedThenExpiredAsync(o =>
        {
            o.StaleFallbackTimeout = TimeSpan.FromSeconds(30);
            o.FetchTimeout = TimeSpan.FromSeconds(10);
        });
        cache.Source.Hold();

        var read = cache.ReadAsync("app/db");
        Eventually.True(() => cache.Source.Calls == 2, "the refresh to reach the source");
        cache.Time.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromTicks(1));
        Assert.False(read.IsCompleted);
        cache.Time.Advance(TimeSpan.FromTicks(1));

        Assert.Equal("one", await read);
    }
}
