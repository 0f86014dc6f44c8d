using FsCheck;
using FsCheck.Fluent;
using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Caching;

/// <summary>
/// TTL: five minutes by default, per reference through <see cref="SecretsCacheOptions.TtlByReference"/> in any spelling.
/// Jitter only ever shortens it, to somewhere in [ttl * (1 - jitter), ttl].
/// </summary>
public sealed class TtlAndJitterTests
{
    [Fact]
    public async Task The_default_TTL_is_five_minutes()
    {
        using var cache = CacheHarness.Create(o => o.DefaultTtl = new SecretsCacheOptions().DefaultTtl);
        cache.Source.Set("app/db", "one");
        await cache.ReadAsync("app/db");
        cache.Source.Set("app/db", "two");

        cache.Time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromTicks(1));
        Assert.Equal("one", await cache.ReadAsync("app/db"));
        cache.Time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal("two", await cache.ReadAsync("app/db"));
    }

    [Theory]
    [InlineData("app/short", "app/short")]
    [InlineData("sm:app/short", "app/short")]
    [InlineData("app/short?stage=AWSCURRENT", "sm:app/short")]
    [InlineData("ssm:/app/param:3", "ssm:/app/param:3")]
    [InlineData("/aws/reference/secretsmanager/app/x", "ssm:/aws/reference/secretsmanager/app/x:AWSCURRENT")]
    public async Task A_per_reference_TTL_applies_to_every_spelling_of_the_reference(string configured, string read)
    {
        using var cache = CacheHarness.Create(o => o.TtlByReference[configured] = TimeSpan.FromMinutes(1));
        cache.Source.Set(read, "one");
        cache.Source.Set("app/other", "one");
        await cache.ReadAsync(read);
        await cache.ReadAsync("app/other");
        cache.Source.Set(read, "two");
        cache.Source.Set("app/other", "two");

        cache.Time.Advance(TimeSpan.FromMinutes(1) - TimeSpan.FromTicks(1));
        Assert.Equal("one", await cache.ReadAsync(read));
        cache.Time.Advance(TimeSpan.FromTicks(1));

        Assert.Equal("two", await cache.ReadAsync(read));
        Assert.Equal("one", await cache.ReadAsync("app/other")); // the default five minutes still holds for the rest
    }

    [Fact]
    public void Jitter_only_shortens_the_TTL_to_within_its_bounds()
    {
        // For any jitter in [0, 0.5] and any random draw in [0, 1): the value is fresh until ttl * (1 - jitter) and
        // expired by ttl (the bounds, seen by reads alone), and exactly where in between is ttl * (1 - jitter * random).
        var jitters = Gen.Choose(0, 50).Select(p => p / 100.0);
        var draws = Gen.Choose(0, 9_999).Select(p => p / 10_000.0);
        var ttl = TimeSpan.FromSeconds(100);
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(200), Prop.ForAll(jitters.ToArbitrary(), draws.ToArbitrary(), (jitter, draw) =>
        {
            var lower = TimeSpan.FromTicks((long)(ttl.Ticks * (1 - jitter)));
            using (var bounds = Cached(ttl, jitter, draw))
            {
                AdvanceTo(bounds, lower - TimeSpan.FromTicks(1));
                Assert.Equal("one", Read(bounds)); // fresh up to the lower bound
                AdvanceTo(bounds, ttl);
                Assert.Equal("two", Read(bounds)); // and never fresh at the TTL
            }

            var expiry = TimeSpan.FromTicks((long)(ttl.Ticks * (1 - (jitter * draw))));
            using var exact = Cached(ttl, jitter, draw);
            AdvanceTo(exact, expiry - TimeSpan.FromTicks(1));
            Assert.Equal("one", Read(exact)); // fresh up to the drawn expiry
            AdvanceTo(exact, expiry);
            Assert.Equal("two", Read(exact)); // and expired at it
        }));
    }

    [Fact]
    public async Task With_the_real_random_fifty_keys_get_spread_expiries()
    {
        var ttl = TimeSpan.FromSeconds(100);
        using var cache = CacheHarness.Create(o =>
        {
            o.DefaultTtl = ttl;
            o.TtlJitter = 0.5;
        }, random: CacheHarness.RealRandom);
        var keys = Enumerable.Range(0, 50).Select(i => $"app/key{i}").ToArray();
        foreach (var key in keys)
        {
            cache.Source.Set(key, "one");
            await cache.ReadAsync(key);
        }

        // Step through [50 s, 100 s] a second at a time, noting when each key is first fetched again.
        var expiredAt = new Dictionary<string, int>();
        cache.Time.Advance(TimeSpan.FromSeconds(49));
        for (var second = 50; second <= 100; second++)
        {
            cache.Time.Advance(TimeSpan.FromSeconds(1));
            foreach (var key in keys.Where(k => !expiredAt.ContainsKey(k)))
            {
                await cache.ReadAsync(key);
                if (cache.Source.FetchesOf(key) == 2)
                {
                    expiredAt[key] = second;
                }
            }
        }

        Assert.Equal(keys.Length, expiredAt.Count); // every key expired within [ttl/2, ttl]
        Assert.True(expiredAt.Values.Distinct().Count() >= 10, $"expiries bunched into seconds {string.Join(", ", expiredAt.Values.Distinct().Order())}");
    }

    [Fact]
    public async Task A_TTL_of_TimeSpan_MaxValue_means_the_value_does_not_expire()
    {
        using var cache = CacheHarness.Create(o => o.DefaultTtl = TimeSpan.MaxValue);
        cache.Time.Advance(TimeSpan.FromDays(3)); // a clock that has been running a while, as a real one has
        cache.Source.Set("app/db", "one");
        await cache.ReadAsync("app/db");

        cache.Time.Advance(TimeSpan.FromDays(3650));

        Assert.Equal("one", await cache.ReadAsync("app/db"));
        Assert.Equal(1, cache.Source.Calls);
    }

    /// <summary>A cache holding "one" for app/db, read at time zero, with "two" waiting in the source.</summary>
    private static CacheHarness Cached(TimeSpan ttl, double jitter, double draw)
    {
        var cache = CacheHarness.Create(o =>
        {
            o.DefaultTtl = ttl;
            o.TtlJitter = jitter;
        }, random: () => draw);
        cache.Source.Set("app/db", "one");
        Assert.Equal("one", Read(cache));
        cache.Source.Set("app/db", "two");
        return cache;
    }

    private static void AdvanceTo(CacheHarness cache, TimeSpan sinceStart) =>
        cache.Time.SetUtcNow(cache.Time.Start + sinceStart);

    private static string Read(CacheHarness cache) => cache.ReadAsync("app/db").GetAwaiter().GetResult();
}
