using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Caching;

/// <summary>
/// Failure backoff: a key whose fetch failed answers with the cached error, without backend calls, until its backoff ends.
/// The backoff doubles per failure, with jitter, up to <see cref="SecretsCacheOptions.MaxFailureBackoff"/>.
/// </summary>
public sealed class FailureBackoffTests
{
    [Fact]
    public async Task A_failing_key_is_fetched_once_then_answers_from_the_cached_error_until_the_backoff_ends()
    {
        // FailureBackoff 2 s with "random" 0.5: the first pause is 2 * (0.5 + 0.25) = 1.5 s.
        using var cache = CacheHarness.Create(o => o.FailureBackoff = TimeSpan.FromSeconds(2));
        cache.Source.Fail = Errors.AccessDenied;

        var first = await Assert.ThrowsAsync<SecretAccessDeniedException>(() => cache.ReadAsync("app/db"));
        cache.Time.Advance(TimeSpan.FromSeconds(1.5) - TimeSpan.FromTicks(1));
        var cached = await Assert.ThrowsAsync<SecretAccessDeniedException>(() => cache.ReadAsync("sm:app/db"));

        Assert.Same(first, cached);
        Assert.Equal(1, cache.Source.Calls);

        cache.Time.Advance(TimeSpan.FromTicks(1));
        await Assert.ThrowsAsync<SecretAccessDeniedException>(() => cache.ReadAsync("app/db"));
        Assert.Equal(2, cache.Source.Calls);
    }

    [Fact]
    public async Task A_thousand_callers_during_a_backoff_make_no_backend_calls()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Fail = Errors.Unavailable;
        await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => cache.ReadAsync("app/db"));

        var outcomes = await Concurrently.RunAsync(1_000, _ => cache.ReadAsync("app/db"));

        Assert.All(outcomes, o => Assert.IsType<SecretServiceUnavailableException>(o.Error));
        Assert.Equal(1, cache.Source.Calls);
    }

    [Theory]
    [InlineData(0.0, new[] { 0.5, 1, 2, 4, 8, 8, 8 })]
    [InlineData(0.5, new[] { 0.75, 1.5, 3, 6, 12, 12, 12 })]
    [InlineData(0.9, new[] { 0.95, 1.9, 3.8, 7.6, 15.2, 15.2, 15.2 })]
    public async Task The_backoff_doubles_per_failure_with_equal_jitter_and_is_capped(double random, double[] expectedSeconds)
    {
        // Base 1 s, cap 16 s; each pause is raw/2 + raw/2 * random, so it lies in [raw/2, raw) and never above the cap.
        using var cache = CacheHarness.Create(o =>
        {
            o.FailureBackoff = TimeSpan.FromSeconds(1);
            o.MaxFailureBackoff = TimeSpan.FromSeconds(16);
        }, random: () => random);
        cache.Source.Fail = Errors.Throttled;
        await Assert.ThrowsAsync<SecretThrottledException>(() => cache.ReadAsync("app/db"));
        var margin = TimeSpan.FromMilliseconds(1);

        for (var failure = 0; failure < expectedSeconds.Length; failure++)
        {
            var pause = TimeSpan.FromSeconds(expectedSeconds[failure]);
            cache.Time.Advance(pause - margin);
            await Assert.ThrowsAsync<SecretThrottledException>(() => cache.ReadAsync("app/db"));
            Assert.Equal(failure + 1, cache.Source.Calls);

            cache.Time.Advance(margin + margin); // the next pause counts from this fetch
            await Assert.ThrowsAsync<SecretThrottledException>(() => cache.ReadAsync("app/db"));
            Assert.Equal(failure + 2, cache.Source.Calls);
        }
    }

    [Fact]
    public async Task Many_failures_never_pause_longer_than_MaxFailureBackoff()
    {
        using var cache = CacheHarness.Create(o =>
        {
            o.FailureBackoff = TimeSpan.FromMilliseconds(100);
            o.MaxFailureBackoff = TimeSpan.FromSeconds(3);
        }, random: () => 0.999_999);
        cache.Source.Fail = Errors.Unavailable;

        for (var attempt = 1; attempt <= 60; attempt++)
        {
            await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => cache.ReadAsync("app/db"));
            Assert.Equal(attempt, cache.Source.Calls);
            cache.Time.Advance(TimeSpan.FromSeconds(3));
        }
    }

    [Fact]
    public async Task With_the_real_random_a_fleet_of_keys_spreads_its_retries()
    {
        using var cache = CacheHarness.Create(o =>
        {
            o.FailureBackoff = TimeSpan.FromSeconds(10);
            o.MaxFailureBackoff = TimeSpan.FromSeconds(10);
        }, random: CacheHarness.RealRandom);
        cache.Source.Fail = Errors.Unavailable;
        var keys = Enumerable.Range(0, 50).Select(i => $"app/key{i}").ToArray();
        foreach (var key in keys)
        {
            await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => cache.ReadAsync(key));
        }

        // Step through the jitter window [5 s, 10 s) a second at a time, noting when each key is fetched again.
        var retriedAt = new Dictionary<string, int>();
        cache.Time.Advance(TimeSpan.FromSeconds(4));
        for (var second = 5; second <= 10; second++)
        {
            cache.Time.Advance(TimeSpan.FromSeconds(1));
            foreach (var key in keys.Where(k => !retriedAt.ContainsKey(k)))
            {
                await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => cache.ReadAsync(key));
                if (cache.Source.FetchesOf(key) == 2)
                {
                    retriedAt[key] = second;
                }
            }
        }

        Assert.Equal(keys.Length, retriedAt.Count);
        Assert.True(retriedAt.Values.Distinct().Count() >= 3, $"retries bunched into seconds {string.Join(", ", retriedAt.Values.Distinct())}");
    }

    [Fact]
    public async Task A_success_resets_the_backoff()
    {
        using var cache = CacheHarness.Create(o =>
        {
            o.DefaultTtl = TimeSpan.FromMinutes(1);
            o.MaxStaleness = TimeSpan.Zero;
        }, random: () => 0);
        cache.Source.Fail = Errors.Throttled;
        for (var i = 0; i < 5; i++)
        {
            await Assert.ThrowsAsync<SecretThrottledException>(() => cache.ReadAsync("app/db"));
            cache.Time.Advance(TimeSpan.FromSeconds(30));
        }

        cache.Source.Fail = null;
        cache.Source.Set("app/db", "one");
        Assert.Equal("one", await cache.ReadAsync("app/db"));
        cache.Time.Advance(TimeSpan.FromMinutes(1));
        cache.Source.Fail = Errors.Throttled;
        await Assert.ThrowsAsync<SecretThrottledException>(() => cache.ReadAsync("app/db"));
        var calls = cache.Source.Calls;

        cache.Time.Advance(TimeSpan.FromSeconds(0.5)); // the first pause again (1 s * 0.5), not the fifth

        await Assert.ThrowsAsync<SecretThrottledException>(() => cache.ReadAsync("app/db"));
        Assert.Equal(calls + 1, cache.Source.Calls);
    }
}
