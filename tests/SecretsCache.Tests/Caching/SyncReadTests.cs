using SecretsCache.Composition;
using SecretsCache.Sources;
using SecretsCache.Tests.Fakes;
using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Caching;

/// <summary>
/// Synchronous reads: <see cref="SecretProvider.GetSecret"/> and its typed siblings under a single-threaded synchronization context
/// (a UI thread, classic ASP.NET), where <c>.Result</c> on an async read deadlocks; and <see cref="SecretProvider.TryGetCached"/>,
/// which never fetches. The fake source answers through <c>await Task.Yield()</c>, which captures the caller's context: a
/// read that let it would post its continuation to the very thread it blocks.
/// </summary>
public sealed class SyncReadTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30); // fails a deadlock; never waited for otherwise

    [Fact]
    public async Task A_miss_read_synchronously_on_a_single_threaded_context_completes_with_one_backend_call()
    {
        using var cache = CacheHarness.Create();
        cache.Source.AnswerAsynchronously = true;
        cache.Source.Set("app/db", "one");

        var (value, pumpThread, readThread) = await SingleThreadContext.RunAsync(context =>
            Task.FromResult((cache.Provider.GetString("app/db"), context.ThreadId, Environment.CurrentManagedThreadId))).WaitAsync(Bound);

        Assert.Equal("one", value);
        Assert.Equal(pumpThread, readThread); // the read itself ran on the context's thread, blocking it
        Assert.Equal(1, cache.Source.Calls);
    }

    [Fact]
    public async Task A_hundred_calls_from_a_single_threaded_context_complete_and_share_one_backend_call()
    {
        using var cache = CacheHarness.Create();
        cache.Source.AnswerAsynchronously = true;
        cache.Source.Set("app/db", "one");
        cache.Source.Hold(); // the first call blocks the pump on the fetch while the other 99 queue behind it

        var values = await SingleThreadContext.RunAsync(async context =>
        {
            var reads = Enumerable.Range(0, 100).Select(i =>
            {
                var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
                context.Post(
                    _ =>
                    {
                        try
                        {
                            done.SetResult(i % 2 == 0 ? cache.Provider.GetString("app/db") : cache.Provider.GetSecret("sm:app/db").GetString());
                        }
                        catch (Exception ex)
                        {
                            done.SetException(ex);
                        }
                    },
                    null);
                return done.Task;
            }).ToList();
            _ = Task.Run(() =>
            {
                Eventually.True(() => cache.Source.Calls == 1, "the first call's fetch started");
                cache.Source.Release();
            });
            return await Task.WhenAll(reads);
        }).WaitAsync(Bound);

        Assert.Equal(100, values.Length);
        Assert.All(values, v => Assert.Equal("one", v));
        Assert.Equal(1, cache.Source.Calls);
    }

    [Fact]
    public async Task Async_and_sync_reads_mixed_on_one_context_share_one_fetch()
    {
        using var cache = CacheHarness.Create();
        cache.Source.AnswerAsynchronously = true;
        cache.Source.Set("app/db", "one");
        cache.Source.Hold();

        var values = await SingleThreadContext.RunAsync(async context =>
        {
            var awaited = Enumerable.Range(0, 50).Select(_ => cache.Provider.GetStringAsync("app/db").AsTask()).ToList(); // these resume on the context
            _ = Task.Run(() =>
            {
                Eventually.True(() => cache.Source.Calls == 1, "the shared fetch started");
                cache.Source.Release();
            });
            var blocking = cache.Provider.GetString("app/db"); // blocks the pump until the shared fetch ends
            return (await Task.WhenAll(awaited)).Append(blocking).ToList();
        }).WaitAsync(Bound);

        Assert.Equal(51, values.Count);
        Assert.All(values, v => Assert.Equal("one", v));
        Assert.Equal(1, cache.Source.Calls);
    }

    [Fact]
    public async Task A_read_on_a_task_scheduler_of_its_own_does_not_deadlock_it()
    {
        using var cache = CacheHarness.Create();
        cache.Source.AnswerAsynchronously = true; // Task.Yield resumes on TaskScheduler.Current when there is no context
        cache.Source.Set("app/db", "one");
        var exclusive = new ConcurrentExclusiveSchedulerPair().ExclusiveScheduler; // one task at a time

        var value = await Task.Factory.StartNew(() => cache.Provider.GetString("app/db"), CancellationToken.None, TaskCreationOptions.None, exclusive).WaitAsync(Bound);

        Assert.Equal("one", value);
        Assert.Equal(1, cache.Source.Calls);
    }

    [Fact]
    public async Task A_miss_slower_than_FetchTimeout_throws_the_fetch_timeout_error()
    {
        using var cache = CacheHarness.Create(o => o.FetchTimeout = TimeSpan.FromSeconds(5));
        cache.Source.Set("app/db", "one");
        cache.Source.Hold();

        var read = SingleThreadContext.RunAsync(_ => Task.FromResult(Record.Exception(() => cache.Provider.GetString("app/db"))));
        Eventually.True(() => cache.Source.Calls == 1 && cache.Time.ActiveTimers >= 2, "the fetch and the caller's wait are on the clock");
        cache.Time.Advance(TimeSpan.FromSeconds(5));
        var error = await read.WaitAsync(Bound);

        var unavailable = Assert.IsType<SecretServiceUnavailableException>(error);
        Assert.Equal("FetchTimeout", unavailable.ErrorCode);
        Assert.True(unavailable.IsTransient);
    }

    [Fact]
    public async Task The_caller_waits_at_most_FetchTimeout_even_when_the_source_ignores_cancellation()
    {
        var time = new FakeTimeProvider();
        var source = new NeverAnswers();
        var options = new SecretsCacheOptions { FetchTimeout = TimeSpan.FromSeconds(5) };
        using var provider = new SecretProvider(SecretsCacheRuntime.Create(source, options, time, null, null, random: null));

        var read = SingleThreadContext.RunAsync(_ => Task.FromResult(Record.Exception(() => provider.GetString("app/db"))));
        Eventually.True(() => source.Calls == 1 && time.ActiveTimers >= 2, "the fetch and the caller's wait are on the clock");
        time.Advance(TimeSpan.FromSeconds(5));
        var error = await read.WaitAsync(Bound);

        Assert.Equal("FetchTimeout", Assert.IsType<SecretServiceUnavailableException>(error).ErrorCode);
    }

    [Fact]
    public async Task Errors_are_the_async_reads_own()
    {
        using var cache = CacheHarness.Create();
        cache.Source.AnswerAsynchronously = true;

        var error = await SingleThreadContext.RunAsync(_ => Task.FromResult(Record.Exception(() => cache.Provider.GetString("app/missing")))).WaitAsync(Bound);
        Assert.IsType<SecretNotFoundException>(error);
        Assert.IsType<SecretNotFoundException>(Record.Exception(() => cache.Provider.GetString("app/missing"))); // cached not-found: at once
        Assert.Equal(1, cache.Source.Calls);
        Assert.Throws<ArgumentException>(() => cache.Provider.GetString("sm:"));
    }

    [Fact]
    public async Task A_hit_makes_no_backend_call_and_returns_the_cached_secret()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/db", "one");
        var cached = await cache.Provider.GetAsync("app/db");

        var hits = await SingleThreadContext.RunAsync(context =>
            Task.FromResult(Enumerable.Range(0, 100).Select(_ => cache.Provider.GetSecret("app/db")).ToList())).WaitAsync(Bound);

        Assert.All(hits, s => Assert.Same(cached, s));
        Assert.Equal("one", cache.Provider.GetString("app/db"));
        Assert.Equal("one"u8.ToArray(), cache.Provider.GetBytes("app/db").ToArray());
        Assert.Equal(1, cache.Source.Calls);
    }

    [Fact]
    public void TryGetCached_answers_only_fresh_values_and_never_fetches()
    {
        using var cache = CacheHarness.Create(o =>
        {
            o.DefaultTtl = TimeSpan.FromMinutes(1);
            o.RefreshAheadFraction = 0.5;
            o.MaxStaleness = TimeSpan.FromHours(1);
        });
        cache.Source.Set("app/db", "one");

        Assert.False(cache.Provider.TryGetCached("app/db", out var none)); // never read
        Assert.Null(none);
        Assert.Equal(0, cache.Provider.Count); // and no entry was made for it
        Assert.Equal(0, cache.Source.Calls);

        var read = cache.Provider.GetString("app/db");
        Assert.True(cache.Provider.TryGetCached("app/db", out var fresh));
        Assert.Equal(read, fresh.GetString());
        Assert.True(cache.Provider.TryGetCached("sm:app/db?stage=AWSCURRENT", out var alias)); // any spelling
        Assert.Same(fresh, alias);

        cache.Time.Advance(TimeSpan.FromSeconds(40)); // in refresh-ahead's window: still fresh, and no refresh is started
        Assert.True(cache.Provider.TryGetCached("app/db", out _));
        Assert.Equal(1, cache.Source.Calls);

        cache.Time.Advance(TimeSpan.FromSeconds(20)); // expired: servable stale only by a failing refresh, so not here
        Assert.False(cache.Provider.TryGetCached("app/db", out _));
        Assert.Equal(1, cache.Source.Calls);
    }

    [Fact]
    public async Task TryGetCached_answers_false_for_a_cached_not_found_and_throws_for_a_malformed_reference()
    {
        using var cache = CacheHarness.Create();
        await Assert.ThrowsAsync<SecretNotFoundException>(() => cache.ReadAsync("app/missing"));

        Assert.False(cache.Provider.TryGetCached("app/missing", out var secret));
        Assert.Null(secret);
        Assert.Throws<ArgumentException>(() => cache.Provider.TryGetCached("sm:", out _));
        Assert.Equal(1, cache.Source.Calls);
    }

    [Fact]
    public async Task Another_ISecretProvider_gets_the_default_synchronous_read_and_no_peek()
    {
        using var cache = CacheHarness.Create();
        cache.Source.AnswerAsynchronously = true;
        cache.Source.Set("app/db", "one");
        ISecretProvider other = new Forwarding(cache.Provider);

        var value = await SingleThreadContext.RunAsync(_ => Task.FromResult(other.GetString("app/db"))).WaitAsync(Bound);

        Assert.Equal("one", value);
        Assert.False(other.TryGetCached("app/db", out _)); // the default: no cache to peek into
    }

    /// <summary>A source whose fetches never end, whatever the token: only the caller's own bound can end a wait on it.</summary>
    private sealed class NeverAnswers : ISecretSource
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public ValueTask<Secret> FetchAsync(SecretReference reference, Secret? current, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            return new ValueTask<Secret>(new TaskCompletionSource<Secret>().Task);
        }

        public ValueTask<IReadOnlyList<FetchOutcome>> FetchManyAsync(IReadOnlyList<SecretReference> references, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public Task<IReadOnlyList<Secret>> FetchPathAsync(string path, bool recursive, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }

    /// <summary>An <see cref="ISecretProvider"/> that implements only the required members (a user's decorator).</summary>
    private sealed class Forwarding(ISecretProvider inner) : ISecretProvider
    {
        public ValueTask<Secret> GetAsync(string reference, CancellationToken cancellationToken = default) => inner.GetAsync(reference, cancellationToken);

        public ValueTask<Secret> RefreshAsync(string reference, CancellationToken cancellationToken = default) => inner.RefreshAsync(reference, cancellationToken);

        public void Invalidate(string reference) => inner.Invalidate(reference);

        public void InvalidateAll() => inner.InvalidateAll();

        public Task<IReadOnlyDictionary<string, Secret>> GetPathAsync(string path, bool recursive = true, CancellationToken cancellationToken = default) =>
            inner.GetPathAsync(path, recursive, cancellationToken);

        public Task<WarmUpResult> WarmUpAsync(IEnumerable<string> references, CancellationToken cancellationToken = default) =>
            inner.WarmUpAsync(references, cancellationToken);
    }
}

/// <summary>A synchronous hit allocates nothing either (no Task, no box), with no listeners attached.</summary>
[Collection(GlobalListenersCollection.Name)]
public sealed class SyncHitAllocationTests
{
    [Fact]
    public async Task A_synchronous_hit_allocates_nothing()
    {
        using var cache = CacheHarness.Create(o => o.RefreshAheadFraction = 0.8);
        cache.Source.Set("app/db", "one");
        await cache.ReadAsync("app/db");

        Allocated(cache.Provider); // JIT warm-up and tiering
        Allocated(cache.Provider);
        Assert.Equal(0, Allocated(cache.Provider));
        Assert.Equal(1, cache.Source.Calls);
    }

    private static long Allocated(SecretProvider provider)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            _ = provider.GetString("app/db");
            _ = provider.TryGetCached("app/db", out _);
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
