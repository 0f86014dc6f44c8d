using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Caching;

/// <summary>
/// A reader that began waiting on a refresh before the source knew of an outage is answered with its stale value as soon as
/// the source learns of one (<c>ISecretSource.NextOutage</c> completes) and then says it cannot answer in time; an outage
/// that leaves the source able to answer (a failover region) keeps it waiting. The refresh runs on. The clock never moves.
/// </summary>
public sealed class OutageWhileWaitingTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Fallback = TimeSpan.FromSeconds(2);

    private static async Task<(CacheHarness Cache, OutageNews News)> CachedThenExpiredAsync(Action<SecretsCacheOptions>? configure = null, params string[] keys)
    {
        var cache = CacheHarness.Create(o =>
        {
            o.DefaultTtl = Ttl;
            o.MaxStaleness = TimeSpan.FromMinutes(10);
            o.StaleFallbackTimeout = Fallback;
            configure?.Invoke(o);
        });
        foreach (var key in keys.Length == 0 ? ["app/db"] : keys)
        {
            cache.Source.Set(key, "one");
            await cache.ReadAsync(key);
            cache.Source.Set(key, "two");
        }

        cache.Time.Advance(Ttl);
        var news = new OutageNews();
        cache.Source.Outages = _ => news.Next();
        cache.Source.CannotAnswer = (_, _) => news.Failing;
        cache.Source.Hold();
        return (cache, news);
    }

    private static Task<T> Within<T>(Task<T> task) => task.WaitAsync(Eventually.DefaultCap);

    [Fact]
    public async Task A_waiting_stale_reader_is_answered_when_the_source_learns_it_cannot_answer_and_the_refresh_runs_on()
    {
        var (cache, news) = await CachedThenExpiredAsync();
        using var _ = cache;
        var before = cache.Time.GetUtcNow();

        var read = cache.ReadAsync("app/db");
        Eventually.True(() => news.Asked == 1, "the reader to ask for the next outage");
        Assert.False(read.IsCompleted);

        news.Fire(failing: true);
        Assert.Equal("one", await Within(read));
        Assert.Equal(before, cache.Time.GetUtcNow());
        Assert.Equal(2, cache.Source.Calls); // the first load, and the one refresh, still held

        news.Failing = false;
        cache.Source.Release();
        Eventually.True(() => Completed.HitValue(cache.Provider, "app/db") == "two", "the refresh to land");
    }

    [Fact]
    public async Task An_outage_that_leaves_the_source_able_to_answer_keeps_the_reader_waiting_for_the_refresh()
    {
        var (cache, news) = await CachedThenExpiredAsync();
        using var _ = cache;

        var read = cache.ReadAsync("app/db");
        Eventually.True(() => news.Asked == 1, "the reader to ask for the next outage");
        news.Fire(failing: false); // e.g. the primary failed, a failover region answers
        Eventually.True(() => news.Asked == 2, "the reader to ask again, for the outage after");
        Assert.False(read.IsCompleted);

        cache.Source.Release();
        Assert.Equal("two", await Within(read)); // the refresh's answer, not the stale value
    }

    [Fact]
    public async Task Many_waiting_stale_readers_of_several_keys_are_all_answered_by_one_outage()
    {
        string[] keys = ["app/a", "app/b", "app/c", "app/d"];
        var (cache, news) = await CachedThenExpiredAsync(null, keys);
        using var _ = cache;
        var before = cache.Time.GetUtcNow();

        var reads = Concurrently.StartAndWaitUntilCalled(400, i => cache.ReadAsync(keys[i % keys.Length]), "every reader to wait");
        Eventually.True(() => news.Asked == reads.Length, "every reader to ask for the next outage");
        Assert.DoesNotContain(reads, read => read.IsCompleted);

        news.Fire(failing: true);
        var values = await Within(Task.WhenAll(reads));

        Assert.All(values, value => Assert.Equal("one", value));
        Assert.Equal(before, cache.Time.GetUtcNow());
        Assert.Equal((2 * keys.Length), cache.Source.Calls); // one load and one refresh per key
        cache.Source.Release();
    }

    [Fact]
    public async Task With_StaleFallbackTimeout_at_FetchTimeout_an_outage_still_answers_a_waiting_stale_reader()
    {
        var (cache, news) = await CachedThenExpiredAsync(o => o.StaleFallbackTimeout = o.FetchTimeout);
        using var _ = cache;

        var read = cache.ReadAsync("app/db");
        Eventually.True(() => news.Asked == 1, "the reader to ask for the next outage");
        news.Fire(failing: true);

        Assert.Equal("one", await Within(read));
        cache.Source.Release();
    }

    [Fact]
    public async Task A_cold_reader_waits_through_an_outage_for_the_fetch_and_gets_its_error()
    {
        var (cache, news) = await CachedThenExpiredAsync();
        using var _ = cache;
        cache.Source.Fail = reference => reference.Name == "app/cold" ? Errors.Unavailable(reference) : null;

        var stale = cache.ReadAsync("app/db");
        var cold = cache.ReadAsync("app/cold");
        Eventually.True(() => news.Asked == 1 && cache.Source.Calls == 3, "both fetches to start");
        news.Fire(failing: true);

        Assert.Equal("one", await Within(stale));
        Assert.False(cold.IsCompleted); // nothing to fall back on: it waits for its fetch
        cache.Source.Release();
        await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => Within(cold));
    }

    /// <summary>What the fake source knows of outages: a task per "next outage", replaced when one is announced.</summary>
    private sealed class OutageNews
    {
        private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _asked;
        private volatile bool _failing;

        public int Asked => Volatile.Read(ref _asked);

        public bool Failing
        {
            get => _failing;
            set => _failing = value;
        }

        public Task Next()
        {
            Interlocked.Increment(ref _asked);
            return Volatile.Read(ref _next).Task;
        }

        public void Fire(bool failing)
        {
            _failing = failing;
            Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).SetResult();
        }
    }
}
