using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Caching;

/// <summary>Single-flight: however many callers miss a key at once, the backend sees one fetch and they all share its outcome.</summary>
public sealed class CacheStampedeTests
{
    private const int Callers = 1_000;

    [Fact]
    public async Task A_thousand_callers_on_a_cold_key_make_one_backend_call_and_get_the_same_instance()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/db", "one");
        cache.Source.Hold();

        var reads = Concurrently.StartAndWaitUntilCalled(Callers, _ => cache.Provider.GetAsync("app/db").AsTask(), "every caller to be waiting on the fetch");
        Assert.All(reads, r => Assert.False(r.IsCompleted));
        cache.Source.Release();
        var secrets = await Task.WhenAll(reads);

        Assert.Equal(1, cache.Source.Calls);
        Assert.All(secrets, s => Assert.Same(secrets[0], s));
        Assert.Equal("one", secrets[0].GetString());
    }

    [Fact]
    public async Task A_fetch_that_finishes_while_callers_are_still_arriving_is_not_repeated()
    {
        // No hold: the fetch completes on another thread while later callers are between looking at the entry and joining
        // the fetch. They must use its outcome, not start a second fetch. Several rounds make the window likely to be hit.
        using var cache = CacheHarness.Create();
        cache.Source.AnswerAsynchronously = true;
        const int rounds = 20;
        for (var round = 0; round < rounds; round++)
        {
            cache.Source.Set($"app/key{round}", $"value{round}");
        }

        for (var round = 0; round < rounds; round++)
        {
            var key = $"app/key{round}";
            var secrets = await Task.WhenAll(Concurrently.Start(Callers / 2, _ => cache.Provider.GetAsync(key).AsTask()));

            Assert.Equal(1, cache.Source.FetchesOf(key));
            Assert.All(secrets, s => Assert.Equal($"value{round}", s.GetString()));
        }
    }

    [Fact]
    public async Task A_caller_that_missed_just_before_another_fetch_finished_uses_its_value()
    {
        // Deterministic form of the race above: a second caller's whole read runs after the first caller has seen no value
        // but before it joins a fetch.
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        using var cache = CacheHarness.Create(meters: meters);
        cache.Source.Set("app/db", "one");
        Secret? other = null;
        using var hook = new MeasurementHook(meters, "secretscache.cache.misses", () => other = cache.Provider.GetAsync("app/db").AsTask().GetAwaiter().GetResult());

        var secret = await cache.Provider.GetAsync("app/db");

        Assert.True(hook.Fired);
        Assert.Same(other, secret);
        Assert.Equal(1, cache.Source.Calls);
    }

    [Fact]
    public async Task A_caller_that_missed_just_before_another_fetch_failed_gets_that_error_without_a_second_call()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        using var cache = CacheHarness.Create(meters: meters);
        cache.Source.Fail = Errors.Throttled;
        using var hook = new MeasurementHook(meters, "secretscache.cache.misses", () =>
            Assert.ThrowsAsync<SecretThrottledException>(() => cache.ReadAsync("app/db")).GetAwaiter().GetResult());

        await Assert.ThrowsAsync<SecretThrottledException>(() => cache.ReadAsync("app/db"));

        Assert.True(hook.Fired);
        Assert.Equal(1, cache.Source.Calls);
    }

    [Fact]
    public async Task With_a_failing_source_a_thousand_callers_all_get_the_error_from_one_call()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Fail = Errors.Unavailable;
        cache.Source.Hold();

        var reads = Concurrently.StartAndWaitUntilCalled(Callers, _ => cache.Provider.GetAsync("app/db").AsTask(), "every caller to be waiting on the fetch");
        cache.Source.Release();

        foreach (var read in reads)
        {
            var error = await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => read);
            Assert.Equal("sm:app/db", error.Reference);
        }

        Assert.Equal(1, cache.Source.Calls);
    }

    [Fact]
    public async Task A_failure_that_lands_while_callers_are_still_arriving_is_not_repeated()
    {
        using var cache = CacheHarness.Create();
        cache.Source.AnswerAsynchronously = true;
        cache.Source.Fail = Errors.Throttled;

        for (var round = 0; round < 20; round++)
        {
            var key = $"app/key{round}";
            var outcomes = await Concurrently.RunAsync(Callers / 2, _ => cache.Provider.GetAsync(key).AsTask());

            Assert.Equal(1, cache.Source.FetchesOf(key));
            Assert.All(outcomes, o => Assert.IsType<SecretThrottledException>(o.Error));
        }
    }

    [Fact]
    public async Task Mixed_spellings_of_one_key_share_the_fetch()
    {
        string[] spellings = ["app/db", "sm:app/db", "app/db?stage=AWSCURRENT", "sm:app/db?stage=AWSCURRENT"];
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/db", "one");
        cache.Source.Hold();

        var reads = Concurrently.StartAndWaitUntilCalled(Callers, i => cache.Provider.GetAsync(spellings[i % spellings.Length]).AsTask(), "every caller to be waiting on the fetch");
        cache.Source.Release();
        var secrets = await Task.WhenAll(reads);

        Assert.Equal(1, cache.Source.Calls);
        Assert.All(secrets, s => Assert.Same(secrets[0], s));
        Assert.Equal(1, cache.Provider.Count);
    }

    [Fact]
    public async Task Different_keys_are_fetched_independently()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/a", "a");
        cache.Source.Set("ssm:/app/b", "b");

        var outcomes = await Concurrently.RunAsync(200, i => cache.ReadAsync(i % 2 == 0 ? "app/a" : "ssm:/app/b"));

        Assert.Equal(2, cache.Source.Calls);
        Assert.All(outcomes, o => Assert.Null(o.Error));
        Assert.Equal(2, cache.Provider.Count);
    }
}
