using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Caching;

/// <summary>
/// A caller's token abandons only that caller's wait: the shared fetch runs on the engine's own token and the other callers
/// still get the value. The fetch's own budget is <see cref="SecretsCacheOptions.FetchTimeout"/>.
/// </summary>
public sealed class CancellationTests
{
    [Fact]
    public async Task A_caller_that_cancels_gets_OperationCanceledException_while_the_others_get_the_value()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/db", "one");
        cache.Source.Hold();
        using var cancel = new CancellationTokenSource();

        var impatient = cache.ReadAsync("app/db", cancel.Token); // the caller that started the fetch
        var patient = Enumerable.Range(0, 50).Select(_ => cache.ReadAsync("app/db")).ToArray();
        Eventually.True(() => cache.Source.Calls == 1, "the fetch to reach the source");
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => impatient);
        var sourceToken = Assert.Single(cache.Source.Tokens);
        Assert.False(sourceToken.IsCancellationRequested, "a caller's cancellation must not reach the shared fetch");
        Assert.All(patient, p => Assert.False(p.IsCompleted));

        cache.Source.Release();
        Assert.All(await Task.WhenAll(patient), v => Assert.Equal("one", v));
        Assert.Equal(1, cache.Source.Calls);
    }

    [Fact]
    public async Task Many_callers_cancelling_at_random_do_not_disturb_the_rest()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/db", "one");
        cache.Source.Hold();
        var tokens = Enumerable.Range(0, 500).Select(_ => new CancellationTokenSource()).ToArray();

        var reads = Concurrently.StartAndWaitUntilCalled(500, i => cache.ReadAsync("app/db", tokens[i].Token), "every caller to be waiting");
        await Task.WhenAll(Concurrently.Start(250, i => tokens[i * 2].CancelAsync().ContinueWith(_ => 0, TaskScheduler.Default)));
        cache.Source.Release();

        for (var i = 0; i < reads.Length; i++)
        {
            if (i % 2 == 0)
            {
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reads[i]);
            }
            else
            {
                Assert.Equal("one", await reads[i]);
            }
        }

        Assert.Equal(1, cache.Source.Calls);
        Assert.False(Assert.Single(cache.Source.Tokens).IsCancellationRequested);
    }

    [Fact]
    public async Task The_fetch_of_a_caller_that_gave_up_still_fills_the_cache()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/db", "one");
        cache.Source.Hold();
        using var cancel = new CancellationTokenSource();

        var read = cache.ReadAsync("app/db", cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
        cache.Source.Release();

        Eventually.True(() => Completed.HitValue(cache.Provider, "app/db") == "one", "the abandoned fetch to land");
        Assert.Equal(1, cache.Source.Calls);
    }

    [Fact]
    public async Task A_caller_that_cancels_while_waiting_on_a_slow_refresh_with_a_stale_value_gets_OperationCanceledException()
    {
        using var cache = CacheHarness.Create(o => o.StaleFallbackTimeout = TimeSpan.FromSeconds(5));
        cache.Source.Set("app/db", "one");
        await cache.ReadAsync("app/db");
        cache.Time.Advance(cache.Options.DefaultTtl);
        cache.Source.Hold();
        using var cancel = new CancellationTokenSource();

        var read = cache.ReadAsync("app/db", cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
        Assert.Equal(2, cache.Source.Calls);
        Assert.All(cache.Source.Tokens, t => Assert.False(t.IsCancellationRequested));
    }

    [Fact]
    public async Task A_cancelled_RefreshAsync_abandons_only_its_own_wait()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/db", "one");
        cache.Source.Hold();
        using var cancel = new CancellationTokenSource();

        var refresh = cache.Provider.RefreshAsync("app/db", cancel.Token).AsTask();
        var read = cache.ReadAsync("app/db");
        await cancel.CancelAsync();
        cache.Source.Release();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => refresh);
        Assert.Equal("one", await read);
        Assert.Equal(1, cache.Source.Calls);
    }

    [Fact]
    public async Task A_fetch_past_FetchTimeout_fails_as_a_transient_timeout_and_its_token_is_cancelled()
    {
        using var cache = CacheHarness.Create(o => o.FetchTimeout = TimeSpan.FromSeconds(10));
        cache.Source.Set("app/db", "one");
        cache.Source.Hold();

        var read = cache.ReadAsync("app/db");
        Eventually.True(() => cache.Source.Calls == 1, "the fetch to reach the source");
        cache.Time.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromTicks(1));
        Assert.False(Assert.Single(cache.Source.Tokens).IsCancellationRequested);
        cache.Time.Advance(TimeSpan.FromTicks(1));

        var error = await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => read);
        Assert.Equal("FetchTimeout", error.ErrorCode);
        Assert.Contains("FetchTimeout", error.Message, StringComparison.Ordinal);
        Assert.True(error.IsTransient);
        Assert.True(Assert.Single(cache.Source.Tokens).IsCancellationRequested);
    }
}
