using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Caching;

/// <summary>
/// A reader holding a stale value is answered at once, without waiting <see cref="SecretsCacheOptions.StaleFallbackTimeout"/>,
/// when the outage is already known: the source says it cannot answer in time. The one
/// refresh still runs, so the value recovers with the backend. The clock never moves while such a reader is answered.
/// </summary>
public sealed class KnownOutageTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Fallback = TimeSpan.FromSeconds(2);

    private static async Task<CacheHarness> CachedThenExpiredAsync()
    {
        var cache = CacheHarness.Create(o =>
        {
            o.DefaultTtl = Ttl;
            o.MaxStaleness = TimeSpan.FromMinutes(10);
            o.StaleFallbackTimeout = Fallback;
        });
        cache.Source.Set("app/db", "one");
        await cache.ReadAsync("app/db");
        cache.Source.Set("app/db", "two");
        cache.Time.Advance(Ttl);
        return cache;
    }

    [Fact]
    public async Task When_the_source_cannot_answer_in_time_stale_readers_are_answered_at_once_and_one_refresh_runs()
    {
        using var cache = await CachedThenExpiredAsync();
        var asked = new List<TimeSpan>();
        cache.Source.CannotAnswer = (_, wait) =>
        {
            lock (asked)
            {
                asked.Add(wait);
            }

            return true;
        };
        cache.Source.Hold();
        var before = cache.Time.GetUtcNow();

        var readers = Enumerable.Range(0, 20).Select(i => Completed.Result(cache.Provider.GetAsync(i % 2 == 0 ? "app/db" : "sm:app/db"), "the stale value at once")).ToList();

        Assert.All(readers, r => Assert.Equal("one", r.GetString()));
        Assert.Equal(before, cache.Time.GetUtcNow());
        Assert.Equal(2, cache.Source.Calls); // the first load, and the one refresh, held
        Assert.All(asked, wait => Assert.Equal(Fallback, wait));

        cache.Source.CannotAnswer = null;
        cache.Source.Release();
        Eventually.True(() => Completed.HitValue(cache.Provider, "app/db") == "two", "the refresh to land");
        Assert.Equal(2, cache.Source.Calls);
    }

    [Fact]
    public async Task Health_counts_a_value_served_stale_for_a_known_outage_before_the_refresh_has_failed()
    {
        // The reader is answered stale as soon as the source knows it cannot answer; the refresh's own failure is recorded
        // later. A health check that read between the two reported healthy (HealthCheckTests failed so on net8.0 in CI).
        using var cache = await CachedThenExpiredAsync();
        cache.Source.CannotAnswer = (_, _) => true;
        cache.Source.Failing = _ => true;
        cache.Source.Hold();

        Assert.Equal("one", await cache.ReadAsync("app/db"));
        var health = cache.Provider.GetHealth();
        Assert.Equal((1, 0, 1, 1), (health.Entries, health.Fresh, health.Expired, health.ServingStale));

        cache.Source.CannotAnswer = null;
        cache.Source.Failing = null;
        cache.Source.Release();
        Eventually.True(() => Completed.HitValue(cache.Provider, "app/db") == "two", "the refresh to land");
        health = cache.Provider.GetHealth();
        Assert.Equal((1, 0, 0), (health.Fresh, health.Expired, health.ServingStale));
    }

    [Fact]
    public async Task Health_does_not_count_a_value_answered_stale_because_its_refresh_waits_for_a_rate_limit_token()
    {
        using var cache = await CachedThenExpiredAsync();
        cache.Source.CannotAnswer = (_, _) => true; // no token now: the reader is answered at once
        cache.Source.Hold();

        Assert.Equal("one", await cache.ReadAsync("app/db"));
        var health = cache.Provider.GetHealth();
        Assert.Equal((0, 1, 0), (health.Fresh, health.Expired, health.ServingStale));

        cache.Source.CannotAnswer = null;
        cache.Source.Release();
        Eventually.True(() => Completed.HitValue(cache.Provider, "app/db") == "two", "the refresh to land");
    }

    [Fact]
    public async Task Health_does_not_count_an_expired_value_whose_refresh_is_merely_in_flight()
    {
        using var cache = await CachedThenExpiredAsync();
        cache.Source.CannotAnswer = (_, _) => false;
        cache.Source.Hold();

        var read = cache.ReadAsync("app/db");
        var health = cache.Provider.GetHealth();
        Assert.Equal((0, 1, 0), (health.Fresh, health.Expired, health.ServingStale));

        cache.Source.Release();
        Assert.Equal("two", await read);
    }

    [Fact]
    public async Task When_the_source_can_answer_a_stale_reader_waits_up_to_StaleFallbackTimeout_as_before()
    {
        using var cache = await CachedThenExpiredAsync();
        cache.Source.CannotAnswer = (_, _) => false;
        cache.Source.Hold();

        var read = cache.ReadAsync("app/db");
        cache.Time.Advance(Fallback - TimeSpan.FromTicks(1));
        Assert.False(read.IsCompleted);
        cache.Time.Advance(TimeSpan.FromTicks(1));

        Assert.Equal("one", await read);
        cache.Source.Release();
    }

    [Fact]
    public async Task A_cold_reader_still_waits_for_the_fetch_even_when_the_source_cannot_answer_in_time()
    {
        using var cache = CacheHarness.Create(o => o.StaleFallbackTimeout = Fallback);
        cache.Source.Set("app/db", "one");
        cache.Source.CannotAnswer = (_, _) => true;
        cache.Source.Hold();

        var read = cache.ReadAsync("app/db");
        cache.Time.Advance(Fallback * 10);
        Assert.False(read.IsCompleted);
        cache.Source.Release();

        Assert.Equal("one", await read);
    }

    [Fact]
    public async Task A_cold_reader_gets_the_error_when_the_source_fails()
    {
        using var cache = CacheHarness.Create(o => o.StaleFallbackTimeout = Fallback);
        cache.Source.CannotAnswer = (_, _) => true;
        cache.Source.Fail = Errors.Unavailable;

        await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => cache.ReadAsync("app/db"));
    }

    [Fact]
    public async Task Past_MaxStaleness_there_is_no_stale_value_to_answer_with_and_the_reader_waits()
    {
        using var cache = await CachedThenExpiredAsync();
        cache.Time.Advance(TimeSpan.FromMinutes(10));
        cache.Source.CannotAnswer = (_, _) => true;
        cache.Source.Hold();

        var read = cache.ReadAsync("app/db");
        cache.Time.Advance(Fallback * 2);
        Assert.False(read.IsCompleted);
        cache.Source.Release();

        Assert.Equal("two", await read);
    }

    [Fact]
    public async Task A_non_transient_failure_of_the_key_answers_nothing_stale()
    {
        using var cache = await CachedThenExpiredAsync();
        cache.Source.Fail = Errors.AccessDenied;
        await Assert.ThrowsAsync<SecretAccessDeniedException>(() => cache.ReadAsync("app/db"));
        cache.Time.Advance(TimeSpan.FromMinutes(1));
        cache.Source.Hold();

        var read = cache.ReadAsync("app/db");
        Assert.False(read.IsCompleted);
        cache.Source.Fail = null;
        cache.Source.Release();

        Assert.Equal("two", await read);
    }
}
