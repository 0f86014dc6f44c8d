using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Caching;

/// <summary>A disposed provider answers nothing, not even from its cache, and cancels the fetches it had under way.</summary>
public sealed class DisposalTests
{
    [Fact]
    public async Task After_Dispose_every_read_throws_ObjectDisposedException_even_a_cached_one()
    {
        var cache = CacheHarness.Create();
        cache.Source.Set("app/db", "one");
        await cache.ReadAsync("app/db");

        cache.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => cache.ReadAsync("app/db"));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => cache.ReadAsync("sm:app/db"));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => cache.ReadAsync("app/other"));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => cache.Provider.RefreshAsync("app/db").AsTask());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => cache.Provider.WarmUpAsync(["app/db"]));
        Assert.Equal(1, cache.Source.Calls);
        Assert.Equal(0, cache.Source.BatchCalls);
    }

    [Fact]
    public async Task Dispose_cancels_a_fetch_under_way()
    {
        var cache = CacheHarness.Create();
        cache.Source.Set("app/db", "one");
        cache.Source.Hold();

        var read = cache.ReadAsync("app/db");
        Eventually.True(() => cache.Source.Calls == 1, "the fetch to reach the source");
        cache.Dispose();

        Assert.True(Assert.Single(cache.Source.Tokens).IsCancellationRequested);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
    }

    [Fact]
    public async Task Dispose_cancels_a_warm_up_under_way()
    {
        var cache = CacheHarness.Create();
        cache.Source.Set("app/db", "one");
        cache.Source.Hold();

        var warmUp = cache.Provider.WarmUpAsync(["app/db"]);
        cache.Dispose();

        Assert.True(Assert.Single(cache.Source.Tokens).IsCancellationRequested);
        var result = await warmUp;
        Assert.IsAssignableFrom<OperationCanceledException>(Assert.Single(result.Failures).Value);
    }

    [Fact]
    public async Task Dispose_twice_is_harmless_and_the_provider_stays_disposed()
    {
        var cache = CacheHarness.Create();
        cache.Source.Set("app/db", "one");
        cache.Source.Hold();
        var read = cache.ReadAsync("app/db");
        Eventually.True(() => cache.Source.Calls == 1, "the fetch to reach the source");

        cache.Dispose();
        Assert.Null(Record.Exception(cache.Dispose));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => cache.ReadAsync("app/db"));
        Assert.Equal(1, cache.Source.Calls);
    }
}
