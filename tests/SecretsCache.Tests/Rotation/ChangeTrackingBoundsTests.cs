using System.Collections.Concurrent;
using Microsoft.Extensions.Primitives;
using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Rotation;

/// <summary>
/// Change tracking (change tokens, the version last announced) is bounded by the cache's own size rule and released with
/// its entry. A token whose reference leaves the cache (eviction, invalidation) fires, because the cache can no longer see
/// that reference change: no change is lost for a token a caller holds.
/// </summary>
public sealed class ChangeTrackingBoundsTests
{
    private static readonly TimeSpan FireTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void Change_tokens_for_references_never_read_are_bounded_by_MaxEntries()
    {
        using var cache = CacheHarness.Create(o => o.MaxEntries = 1_000);

        for (var i = 0; i < 20_000; i++)
        {
            _ = cache.Provider.GetChangeToken($"app/watched-{i}");
        }

        Assert.InRange(cache.Provider.ChangeTrackingSizes.ChangeTokens, 1, 1_000);
        Assert.InRange(cache.Provider.Count, 1, 1_000);
    }

    [Fact]
    public async Task Announced_versions_are_bounded_by_MaxEntries()
    {
        using var cache = CacheHarness.Create(o => o.MaxEntries = 100);
        var announced = 0;
        cache.Provider.SecretChanged += (_, _) => Interlocked.Increment(ref announced);

        for (var i = 0; i < 2_000; i++)
        {
            var key = $"app/rotated-{i}";
            cache.Source.Set(key, "one");
            await cache.ReadAsync(key);
            cache.Source.Set(key, "two");
            await cache.Provider.RefreshAsync(key);
        }

        Assert.Equal(2_000, announced);
        Assert.InRange(cache.Provider.ChangeTrackingSizes.AnnouncedVersions, 1, 100);
    }

    [Fact]
    public async Task A_token_whose_reference_is_evicted_fires_and_a_new_one_sees_the_next_change()
    {
        using var cache = CacheHarness.Create(o => o.MaxEntries = 10);
        cache.Source.Set("app/watched", "one");
        await cache.ReadAsync("app/watched");
        var evicted = Fired(cache.Provider.GetChangeToken("app/watched"));

        for (var i = 0; i < 20; i++)
        {
            cache.Time.Advance(TimeSpan.FromSeconds(1)); // later reads are more recent: app/watched is the least recently read
            cache.Source.Set($"app/other-{i}", "x");
            await cache.ReadAsync($"app/other-{i}");
        }

        await evicted.WaitAsync(FireTimeout);
        Assert.Equal("one", await cache.ReadAsync("app/watched")); // the holder reads again (the entry comes back)...
        var next = cache.Provider.GetChangeToken("app/watched");   // ...and takes a new token, which waits for a change
        Assert.False(next.HasChanged);
        cache.Source.Set("app/watched", "two");
        await cache.Provider.RefreshAsync("app/watched");
        Assert.True(next.HasChanged);
    }

    [Fact]
    public async Task A_token_whose_reference_is_invalidated_fires_at_once()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/a", "one");
        cache.Source.Set("app/b", "one");
        await cache.ReadAsync("app/a");
        var a = cache.Provider.GetChangeToken("sm:app/a");
        var b = cache.Provider.GetChangeToken("app/b"); // never read: still fires when everything is invalidated

        cache.Provider.Invalidate("app/a");
        Assert.True(a.HasChanged);
        Assert.False(b.HasChanged);

        cache.Provider.InvalidateAll();
        Assert.True(b.HasChanged);
        Assert.False(cache.Provider.GetChangeToken("app/a").HasChanged);
        Assert.Equal((1, 0), cache.Provider.ChangeTrackingSizes);
    }

    [Fact]
    public async Task No_change_is_lost_for_a_held_token_while_readers_evict_and_invalidate_concurrently()
    {
        using var cache = CacheHarness.Create(o =>
        {
            o.MaxEntries = 20;
            o.MinForcedRefreshInterval = TimeSpan.Zero;
        });
        var keys = Enumerable.Range(0, 60).Select(i => $"app/k-{i}").ToArray();
        foreach (var key in keys)
        {
            cache.Source.Set(key, "one");
        }

        var held = new ConcurrentBag<Task>();
        await Task.WhenAll(Concurrently.Start(4, async worker =>
        {
            for (var i = 0; i < 300; i++)
            {
                var key = keys[((worker * 7919) + (i * 13)) % keys.Length];
                held.Add(Fired(cache.Provider.GetChangeToken(key)));
                await cache.ReadAsync(key);
                if (i % 50 == 0)
                {
                    cache.Provider.Invalidate(keys[(i + worker) % keys.Length]);
                }
            }

            return 0;
        }));

        foreach (var key in keys)
        {
            cache.Source.Set(key, "two");
            await cache.Provider.RefreshAsync(key);
        }

        // Every token taken before the change has fired: by the change itself, or when its reference left the cache.
        await Task.WhenAll(held).WaitAsync(FireTimeout);
        Assert.Equal(1_200, held.Count);
        Assert.InRange(cache.Provider.ChangeTrackingSizes.ChangeTokens, 0, 20);
    }

    private static Task Fired(IChangeToken token)
    {
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.RegisterChangeCallback(static state => ((TaskCompletionSource)state!).TrySetResult(), fired);
        return fired.Task;
    }
}
