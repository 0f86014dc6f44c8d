using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Logging;
using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Caching;

/// <summary>Warm-up loads many references through the source's batch API, reports failures per reference, and keeps single-flight.</summary>
public sealed class WarmUpTests
{
    private static readonly string[] References = [.. Enumerable.Range(0, 20).Select(i => i % 2 == 0 ? $"app/key{i}" : $"ssm:/app/param{i}")];

    [Fact]
    public async Task N_references_load_through_one_batch_call_and_later_reads_are_hits()
    {
        using var cache = CacheHarness.Create();
        foreach (var reference in References)
        {
            cache.Source.Set(reference, reference + "-value");
        }

        var result = await cache.Provider.WarmUpAsync(References);

        Assert.True(result.Succeeded);
        Assert.Equal(References.Length, result.Loaded);
        Assert.Equal(1, cache.Source.BatchCalls);
        Assert.Equal(References.Length, Assert.Single(cache.Source.Batches).Count);
        foreach (var reference in References)
        {
            Assert.Equal(reference + "-value", await cache.ReadAsync(reference));
        }

        Assert.Equal(0, cache.Source.Calls);
        result.ThrowIfAnyFailed();
    }

    [Fact]
    public async Task Failures_are_listed_per_reference_and_ThrowIfAnyFailed_throws_them()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/good", "g");
        cache.Source.Set("app/denied", "d");
        cache.Source.Fail = r => r.Name == "app/denied" ? Errors.AccessDenied(r) : null;

        var result = await cache.Provider.WarmUpAsync(["app/good", "app/missing", "app/denied"]);

        Assert.False(result.Succeeded);
        Assert.Equal(1, result.Loaded);
        Assert.Equal(["app/denied", "app/missing"], result.Failures.Keys.Order());
        Assert.IsType<SecretNotFoundException>(result.Failures["app/missing"]);
        Assert.IsType<SecretAccessDeniedException>(result.Failures["app/denied"]);
        var thrown = Assert.Throws<AggregateException>(result.ThrowIfAnyFailed);
        Assert.Equal(2, thrown.InnerExceptions.Count);
        Assert.Contains("2 of 3", thrown.Message, StringComparison.Ordinal);
        Assert.Equal("g", await cache.ReadAsync("app/good"));
        await Assert.ThrowsAsync<SecretNotFoundException>(() => cache.ReadAsync("app/missing")); // cached not-found
        Assert.Equal(0, cache.Source.Calls);
    }

    [Fact]
    public async Task A_key_backing_off_after_a_failure_is_not_fetched_by_warm_up_until_its_backoff_ends()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/a", "a");
        cache.Source.Set("app/flaky", "f");
        cache.Source.Fail = r => r.Name == "app/flaky" ? Errors.Unavailable(r) : null;
        var first = await cache.Provider.WarmUpAsync(["app/a", "app/flaky"]);
        Assert.IsType<SecretServiceUnavailableException>(first.Failures["app/flaky"]);
        Assert.Equal(1, cache.Source.BatchCalls);
        cache.Source.Fail = null;

        // An application retrying its warm-up in a loop must not get around the key's backoff.
        var during = await cache.Provider.WarmUpAsync(["app/a", "app/flaky"]);

        Assert.Equal(1, cache.Source.BatchCalls);
        Assert.Equal(0, cache.Source.Calls);
        Assert.Equal(1, during.Loaded);
        Assert.IsType<SecretServiceUnavailableException>(during.Failures["app/flaky"]);

        cache.Time.Advance(cache.Options.MaxFailureBackoff);
        var after = await cache.Provider.WarmUpAsync(["app/a", "app/flaky"]);

        Assert.True(after.Succeeded);
        Assert.Equal(2, cache.Source.BatchCalls);
        Assert.Equal("f", await cache.ReadAsync("app/flaky"));
    }

    [Fact]
    public async Task References_evicted_by_the_size_bound_during_warm_up_are_reported_not_counted_as_loaded()
    {
        var logs = new FakeLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        using var cache = CacheHarness.Create(o => o.MaxEntries = 10, loggers: factory);
        var references = Enumerable.Range(0, 30).Select(i => $"app/k{i:00}").ToList();
        references.ForEach(r => cache.Source.Set(r, "v"));

        var result = await cache.Provider.WarmUpAsync(references);

        Assert.Equal(cache.Provider.Count, result.Loaded);
        Assert.InRange(result.Loaded, 1, 10);

        // Evictions are reported as such, not as failures, and never as a configuration error.
        Assert.Equal(30 - result.Loaded, result.Evicted.Count);
        Assert.Empty(result.Failures);
        Assert.False(result.Succeeded);
        result.ThrowIfAnyFailed(); // nothing failed
        Assert.All(result.Evicted, r => Assert.Contains(r, references));
        Assert.Equal(references.Count, result.Evicted.Distinct().Count() + result.Loaded);
        Assert.Contains($"Evicted = {result.Evicted.Count}", result.ToString(), StringComparison.Ordinal);
        Assert.Contains(logs.Collector.GetSnapshot(), r => r.Level == LogLevel.Warning && r.Message.Contains("MaxEntries is 10", StringComparison.Ordinal));

        // An evicted reference is read again on demand: it was never a failure of the reference.
        var evicted = result.Evicted[0];
        var before = cache.Source.Calls;
        Assert.Equal("v", await cache.ReadAsync(evicted));
        Assert.Equal(before + 1, cache.Source.Calls);
    }

    [Fact]
    public async Task A_batch_call_that_fails_whole_fails_every_reference_in_it()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/a", "a");
        cache.Source.Hold();

        var warmUp = cache.Provider.WarmUpAsync(["app/a", "app/b"]);
        cache.Time.Advance(cache.Options.FetchTimeout);
        var result = await warmUp;

        Assert.Equal(0, result.Loaded);
        Assert.All(result.Failures.Values, e => Assert.Equal("FetchTimeout", Assert.IsType<SecretServiceUnavailableException>(e).ErrorCode));
    }

    [Fact]
    public async Task A_malformed_reference_throws_before_anything_is_fetched()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/a", "a");

        await Assert.ThrowsAsync<ArgumentException>(() => cache.Provider.WarmUpAsync(["app/a", "ssm:/app/x:0", "app/b"]));

        Assert.Equal(0, cache.Source.BatchCalls);
        Assert.Equal(0, cache.Source.Calls);
    }

    [Fact]
    public async Task Fresh_keys_and_duplicate_spellings_are_not_fetched_twice()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/a", "a");
        cache.Source.Set("app/b", "b");
        await cache.ReadAsync("app/a");

        var result = await cache.Provider.WarmUpAsync(["app/a", "app/b", "sm:app/b", "app/b"]);

        Assert.True(result.Succeeded);
        var batch = Assert.Single(cache.Source.Batches);
        Assert.Equal("sm:app/b", Assert.Single(batch).ToString());
    }

    [Fact]
    public async Task A_warm_up_joins_a_GetAsync_fetch_of_the_same_key()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/a", "a");
        cache.Source.Set("app/b", "b");
        cache.Source.Hold();

        var read = cache.ReadAsync("app/a");
        Eventually.True(() => cache.Source.Calls == 1, "the read's fetch to reach the source");
        var warmUp = cache.Provider.WarmUpAsync(["app/a", "app/b"]);
        cache.Source.Release();

        Assert.Equal("a", await read);
        Assert.Equal(2, (await warmUp).Loaded);
        Assert.Equal(1, cache.Source.FetchesOf("app/a"));
        Assert.Equal("sm:app/b", Assert.Single(Assert.Single(cache.Source.Batches)).ToString());
    }

    [Fact]
    public async Task A_GetAsync_joins_a_warm_up_fetch_of_the_same_key()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/a", "a");
        cache.Source.Hold();

        var warmUp = cache.Provider.WarmUpAsync(["app/a"]);
        var reads = Enumerable.Range(0, 50).Select(_ => cache.ReadAsync("app/a")).ToArray();
        cache.Source.Release();

        Assert.All(await Task.WhenAll(reads), v => Assert.Equal("a", v));
        Assert.True((await warmUp).Succeeded);
        Assert.Equal(0, cache.Source.Calls);
        Assert.Equal(1, cache.Source.FetchesOf("app/a"));
    }

    [Fact]
    public async Task A_warm_up_hammered_by_concurrent_reads_fetches_each_key_once()
    {
        using var cache = CacheHarness.Create();
        cache.Source.AnswerAsynchronously = true;
        foreach (var reference in References)
        {
            cache.Source.Set(reference, "v");
        }

        var tasks = Concurrently.Start(401, i => i == 0
            ? cache.Provider.WarmUpAsync(References).ContinueWith(t => t.Result.Loaded.ToString(), TaskScheduler.Default)
            : cache.ReadAsync(References[i % References.Length]));
        await Task.WhenAll(tasks);

        Assert.All(References, r => Assert.Equal(1, cache.Source.FetchesOf(r)));
    }

    [Fact]
    public async Task Cancelling_a_warm_up_abandons_the_wait_but_the_batch_still_fills_the_cache()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/a", "a");
        cache.Source.Hold();
        using var cancel = new CancellationTokenSource();

        var warmUp = cache.Provider.WarmUpAsync(["app/a"], cancel.Token);
        await cancel.CancelAsync();
        Eventually.True(() => warmUp.IsCompleted, "the cancelled warm-up to return without waiting for the held batch");

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => warmUp);
        Assert.False(Assert.Single(cache.Source.Tokens).IsCancellationRequested);
        var read = cache.ReadAsync("app/a"); // joins the batch still under way
        cache.Source.Release();
        Assert.Equal("a", await read);
        Assert.Equal(0, cache.Source.Calls);
    }

    [Fact]
    public async Task A_key_with_a_fresh_value_counts_as_loaded_even_after_a_failed_refresh_ahead()
    {
        using var cache = CacheHarness.Create(o => o.RefreshAheadFraction = 0.5);
        cache.Source.Set("app/a", "a");
        await cache.ReadAsync("app/a");
        cache.Time.Advance(cache.Options.DefaultTtl / 2);
        cache.Source.Fail = Errors.Throttled;
        Assert.Equal("a", await cache.ReadAsync("app/a")); // starts a refresh that fails; the value stays fresh

        var result = await cache.Provider.WarmUpAsync(["app/a"]);

        Assert.True(result.Succeeded, string.Join(", ", result.Failures.Select(f => $"{f.Key}: {f.Value.GetType().Name}")));
        Assert.Equal(1, result.Loaded);
    }
}
