using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Caching;

/// <summary>
/// Refresh-ahead: past <see cref="SecretsCacheOptions.RefreshAheadFraction"/> of its TTL a hit still answers at once from the
/// cache, and starts one background fetch whose result later hits see. A failing refresh never reaches callers.
/// </summary>
public sealed class RefreshAheadTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(100);
    private static readonly TimeSpan RefreshPoint = TimeSpan.FromSeconds(80);

    private static CacheHarness Create(Action<SecretsCacheOptions>? configure = null, IMeterFactory? meters = null) =>
        CacheHarness.Create(o =>
        {
            o.DefaultTtl = Ttl;
            o.RefreshAheadFraction = 0.8;
            configure?.Invoke(o);
        }, meters: meters);

    [Fact]
    public async Task Before_the_refresh_point_a_hit_starts_no_fetch()
    {
        using var cache = Create();
        cache.Source.Set("app/db", "one");
        await cache.ReadAsync("app/db");

        cache.Time.Advance(RefreshPoint - TimeSpan.FromTicks(1));
        for (var i = 0; i < 100; i++)
        {
            await cache.ReadAsync("app/db");
        }

        Assert.Equal(1, cache.Source.Calls);
    }

    [Fact]
    public async Task Past_the_refresh_point_hits_answer_at_once_and_start_exactly_one_background_fetch()
    {
        using var cache = Create();
        cache.Source.Set("app/db", "one");
        var first = await cache.Provider.GetAsync("app/db");
        cache.Source.Set("app/db", "two");
        cache.Time.Advance(RefreshPoint);
        cache.Source.Hold();

        // 200 hits at once, all past the refresh point, with the refresh held: each answers at once with the current value.
        var hits = await Task.WhenAll(Concurrently.Start(200, _ =>
            Task.FromResult(Completed.Result(cache.Provider.GetAsync("app/db"), "a hit past the refresh point not to wait for the refresh"))));

        Assert.All(hits, s => Assert.Same(first, s));
        Eventually.True(() => cache.Source.Calls == 2, "the background refresh to reach the source");
        Assert.Same(first, Completed.Result(cache.Provider.GetAsync("app/db")));
        Assert.Equal(2, cache.Source.Calls); // exactly one background fetch

        var refreshed = cache.Provider.RefreshAsync("app/db"); // joins the background fetch, which is still held
        cache.Source.Release();
        Assert.Equal("two", (await refreshed).GetString());
        Assert.Equal("two", await cache.ReadAsync("app/db"));
        Assert.Equal(2, cache.Source.Calls);
    }

    [Fact]
    public async Task The_refreshed_value_starts_a_new_TTL()
    {
        using var cache = Create();
        cache.Source.Set("app/db", "one");
        await cache.ReadAsync("app/db");
        cache.Source.Set("app/db", "two");
        cache.Time.Advance(RefreshPoint);

        await cache.ReadAsync("app/db"); // starts the refresh, which completes at once
        cache.Time.Advance(Ttl - RefreshPoint + TimeSpan.FromSeconds(1)); // past the first value's expiry

        Assert.Equal("two", await cache.ReadAsync("app/db"));
        Assert.Equal(2, cache.Source.Calls);
    }

    [Fact]
    public async Task A_refresh_that_finishes_while_hits_are_still_arriving_is_not_repeated()
    {
        using var cache = Create();
        cache.Source.AnswerAsynchronously = true;
        const int rounds = 10;
        for (var round = 0; round < rounds; round++)
        {
            cache.Source.Set($"app/key{round}", "one");
            await cache.ReadAsync($"app/key{round}");
            cache.Source.Set($"app/key{round}", "two");
        }

        cache.Time.Advance(RefreshPoint);
        for (var round = 0; round < rounds; round++)
        {
            var key = $"app/key{round}";
            await Task.WhenAll(Concurrently.Start(200, _ => cache.Provider.GetAsync(key).AsTask()));
            Eventually.True(() => Completed.HitValue(cache.Provider, key) == "two", "the refresh to land");

            Assert.Equal(2, cache.Source.FetchesOf(key));
        }
    }

    [Fact]
    public async Task A_hit_that_saw_the_old_value_just_before_a_refresh_landed_does_not_refresh_again()
    {
        // Deterministic form of the race above: a whole refresh runs after a hit has read the old value and before it
        // decides to refresh.
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        using var cache = Create(meters: meters);
        cache.Source.Set("app/db", "one");
        await cache.ReadAsync("app/db");
        cache.Time.Advance(RefreshPoint);
        var nested = false;
        using var hook = new MeasurementHook(meters, "secretscache.cache.hits", () =>
        {
            nested = true;
            _ = cache.Provider.GetAsync("app/db").AsTask().GetAwaiter().GetResult(); // starts and finishes the refresh
        });

        await cache.Provider.GetAsync("app/db");

        Assert.True(nested);
        Assert.Equal(2, cache.Source.Calls);
    }

    [Fact]
    public async Task A_failing_refresh_does_not_reach_callers_and_backs_off_instead_of_hammering()
    {
        using var cache = Create(o =>
        {
            o.FailureBackoff = TimeSpan.FromSeconds(4);
            o.MaxFailureBackoff = TimeSpan.FromSeconds(4);
        });
        cache.Source.Set("app/db", "one");
        await cache.ReadAsync("app/db");
        cache.Time.Advance(RefreshPoint);
        cache.Source.Fail = Errors.Throttled;

        var outcomes = await Concurrently.RunAsync(200, _ => cache.ReadAsync("app/db"));

        Assert.All(outcomes, o => Assert.Equal("one", o.Value));
        Assert.Equal(2, cache.Source.Calls);

        // Backoff is 4 s * (0.5 + 0.5 * 0.5) = 3 s: no refresh before it ends, one after.
        cache.Time.Advance(TimeSpan.FromSeconds(3) - TimeSpan.FromTicks(1));
        Assert.Equal("one", await cache.ReadAsync("app/db"));
        Assert.Equal(2, cache.Source.Calls);
        cache.Time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal("one", await cache.ReadAsync("app/db"));
        Assert.Equal(3, cache.Source.Calls);
    }

    [Fact]
    public async Task A_fraction_of_1_turns_refresh_ahead_off()
    {
        using var cache = Create(o => o.RefreshAheadFraction = 1);
        cache.Source.Set("app/db", "one");
        await cache.ReadAsync("app/db");

        cache.Time.Advance(Ttl - TimeSpan.FromTicks(1));
        await cache.ReadAsync("app/db");

        Assert.Equal(1, cache.Source.Calls);
    }
}
