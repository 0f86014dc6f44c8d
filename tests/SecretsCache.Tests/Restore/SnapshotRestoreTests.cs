using SecretsCache.Composition;
using SecretsCache.Tests.Fakes;
using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Restore;

/// <summary>
/// <see cref="SecretProvider.OnSnapshotRestored"/> on a fake clock and a fake source, with the provider's randomness seeded
/// as a snapshot would leave it: two providers from one state agree on every schedule until the hook, and differ after it.
/// </summary>
public sealed class SnapshotRestoreTests
{
    private const int Keys = 20;

    [Fact]
    public async Task Two_providers_from_one_snapshot_state_schedule_alike_until_the_hook_and_differently_after_it()
    {
        using var first = Restorable.Create(seed: 42, o => o.Snapshot.MaxAgeAfterRestore = TimeSpan.FromHours(1));
        using var second = Restorable.Create(seed: 42, o => o.Snapshot.MaxAgeAfterRestore = TimeSpan.FromHours(1));
        await first.LoadAsync(Keys);
        await second.LoadAsync(Keys);
        Assert.Equal(first.Schedules(Keys), second.Schedules(Keys)); // the same state: the lockstep a restore would start from

        first.Time.Advance(TimeSpan.FromSeconds(10));
        second.Time.Advance(TimeSpan.FromSeconds(10));
        first.Provider.OnSnapshotRestored();
        second.Provider.OnSnapshotRestored();

        var after = (First: first.Schedules(Keys), Second: second.Schedules(Keys));
        Assert.NotEqual(after.First, after.Second);
        Assert.True(after.First.Zip(after.Second).Count(p => p.First != p.Second) >= Keys / 2, "most refresh times should differ after the hook");

        // Re-jittered within the TTL's bounds: jitter only shortens, so no value is fresh for longer than its TTL.
        foreach (var provider in new[] { first, second })
        {
            for (var i = 0; i < Keys; i++)
            {
                var value = provider.Value(i);
                var lifetime = TimeSpan.FromSeconds((value.ExpiresAt - value.FetchedAt) / (double)provider.Time.TimestampFrequency);
                Assert.InRange(lifetime, TimeSpan.FromMinutes(10) * (1 - 0.5), TimeSpan.FromMinutes(10));
            }
        }
    }

    [Fact]
    public async Task Values_at_least_MaxAgeAfterRestore_old_are_fetched_again_on_first_read_and_younger_ones_are_not()
    {
        using var cache = Restorable.Create(seed: 1, o => o.Snapshot.MaxAgeAfterRestore = TimeSpan.FromMinutes(1));
        cache.Source.Set("app/old", "old-1");
        cache.Source.Set("app/young", "young-1");
        await cache.Provider.GetStringAsync("app/old");
        cache.Time.Advance(TimeSpan.FromMinutes(2));
        await cache.Provider.GetStringAsync("app/young");
        cache.Time.Advance(TimeSpan.FromSeconds(30)); // old: 2.5 min, young: 30 s, both within the 10 min TTL
        cache.Source.Set("app/old", "old-2");
        cache.Source.Set("app/young", "young-2");
        Assert.Equal(2, cache.Source.Calls);

        cache.Provider.OnSnapshotRestored();
        Assert.Equal(2, cache.Source.Calls); // the hook itself fetches nothing

        Assert.Equal("old-2", await cache.Provider.GetStringAsync("app/old"));
        Assert.Equal(1, cache.Source.FetchesOf("app/old") - 1);
        Assert.Equal("young-1", await cache.Provider.GetStringAsync("app/young"));
        Assert.Equal(1, cache.Source.FetchesOf("app/young"));
        Assert.Equal(3, cache.Source.Calls);
    }

    [Fact]
    public async Task A_value_expired_by_the_restore_is_served_stale_within_its_own_bound_when_the_refetch_fails()
    {
        using var cache = Restorable.Create(seed: 1, o =>
        {
            o.TtlJitter = 0;
            o.Snapshot.MaxAgeAfterRestore = TimeSpan.Zero;
            o.MaxStaleness = TimeSpan.FromMinutes(30);
            o.StaleFallbackTimeout = TimeSpan.Zero;
            o.FailureBackoff = TimeSpan.FromMilliseconds(1);
            o.MaxFailureBackoff = TimeSpan.FromMilliseconds(1);
        });
        cache.Source.Set("app/db", "v1");
        await cache.Provider.GetStringAsync("app/db"); // expires at 10 min, servable stale until 40 min
        cache.Time.Advance(TimeSpan.FromMinutes(9));
        cache.Source.Fail = _ => new SecretServiceUnavailableException("The backend is down.", "sm:app/db", "ServiceUnavailable");

        cache.Provider.OnSnapshotRestored();

        Assert.Equal("v1", await cache.Provider.GetStringAsync("app/db")); // expired, refetched, failing: stale, as any expired value
        Assert.Equal(2, cache.Source.Calls);

        // Staleness still ends 30 min after the value's own expiry: not shortened to 30 min after the restore (39 min),
        // not extended to a TTL and staleness counted from the restore (49 min).
        cache.Time.Advance(TimeSpan.FromMinutes(30) + TimeSpan.FromSeconds(59)); // 39:59
        Assert.Equal("v1", await cache.Provider.GetStringAsync("app/db"));
        cache.Time.Advance(TimeSpan.FromSeconds(2)); // 40:01
        await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => cache.Provider.GetStringAsync("app/db").AsTask());
    }

    [Fact]
    public async Task Time_the_monotonic_clock_did_not_count_while_the_snapshot_was_stored_counts_toward_age_and_TTL()
    {
        var time = new StoredSnapshotClock();
        using var cache = Restorable.Create(seed: 1, o => o.Snapshot.MaxAgeAfterRestore = TimeSpan.FromDays(1), time);
        cache.Source.Set("app/db", "v1");
        await cache.Provider.GetStringAsync("app/db");
        cache.Source.Set("app/db", "v2");
        time.Advance(TimeSpan.FromSeconds(5));
        time.Stored = TimeSpan.FromHours(3); // the wall clock moved on; the restored monotonic clock did not

        cache.Provider.OnSnapshotRestored();

        // Three hours old: past its 10 min TTL though the monotonic clock says 5 s.
        Assert.Equal("v2", await cache.Provider.GetStringAsync("app/db"));
        Assert.Equal(2, cache.Source.Calls);
    }

    [Fact]
    public async Task A_small_wall_clock_drift_is_not_taken_for_a_stored_snapshot()
    {
        var time = new StoredSnapshotClock();
        using var cache = Restorable.Create(seed: 1, o => o.Snapshot.MaxAgeAfterRestore = TimeSpan.FromMinutes(5), time);
        cache.Source.Set("app/db", "v1");
        await cache.Provider.GetStringAsync("app/db");
        time.Advance(TimeSpan.FromSeconds(5));
        time.Stored = TimeSpan.FromMilliseconds(900); // NTP slewing, within CacheEngine.MissedTimeTolerance
        cache.Source.Set("app/db", "v2");

        cache.Provider.OnSnapshotRestored();

        Assert.Equal("v1", await cache.Provider.GetStringAsync("app/db"));
        Assert.Equal(1, cache.Source.Calls);
    }

    [Fact]
    public async Task Failures_seen_before_the_snapshot_are_forgotten()
    {
        using var cache = Restorable.Create(seed: 1, o =>
        {
            o.NegativeTtl = TimeSpan.FromMinutes(5);
            o.FailureBackoff = TimeSpan.FromMinutes(1);
        });
        cache.Source.Set("app/flaky", "v1");
        cache.Source.Fail = r => r.Name == "app/flaky" ? new SecretServiceUnavailableException("Down.", "sm:app/flaky", "ServiceUnavailable") : null;
        await Assert.ThrowsAsync<SecretNotFoundException>(() => cache.Provider.GetStringAsync("app/created-later").AsTask());
        await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => cache.Provider.GetStringAsync("app/flaky").AsTask());
        cache.Source.Set("app/created-later", "new");
        cache.Source.Fail = null;
        Assert.Equal(2, cache.Source.Calls);

        cache.Provider.OnSnapshotRestored();

        Assert.Equal("new", await cache.Provider.GetStringAsync("app/created-later"));
        Assert.Equal("v1", await cache.Provider.GetStringAsync("app/flaky"));
        Assert.Equal(4, cache.Source.Calls);
    }

    [Fact]
    public void The_hook_seeds_the_providers_randomness_again()
    {
        using var first = Restorable.Create(seed: 42);
        using var second = Restorable.Create(seed: 42);
        Assert.Equal(first.Runtime.Random.NextDouble(), second.Runtime.Random.NextDouble());

        first.Provider.OnSnapshotRestored();
        second.Provider.OnSnapshotRestored();

        Assert.Equal(1, first.Runtime.Random.Reseeds);
        var a = Enumerable.Range(0, 8).Select(_ => first.Runtime.Random.NextDouble()).ToArray();
        var b = Enumerable.Range(0, 8).Select(_ => second.Runtime.Random.NextDouble()).ToArray();
        Assert.NotEqual(a, b);
    }

    [Fact]
    public async Task A_fetch_under_way_is_left_to_store_its_own_fresh_schedule()
    {
        using var cache = Restorable.Create(seed: 1, o => o.Snapshot.MaxAgeAfterRestore = TimeSpan.Zero);
        cache.Source.Set("app/db", "v1");
        cache.Source.Hold();
        var read = cache.Provider.GetStringAsync("app/db").AsTask();

        cache.Provider.OnSnapshotRestored();
        cache.Source.Release();

        Assert.Equal("v1", await read);
        Assert.Equal("v1", await cache.Provider.GetStringAsync("app/db")); // stored after the hook: fresh, not expired by it
        Assert.Equal(1, cache.Source.Calls);
    }

    [Fact]
    public void A_disposed_provider_refuses_the_hook()
    {
        var cache = Restorable.Create(seed: 1);
        cache.Dispose();
        Assert.Throws<ObjectDisposedException>(cache.Provider.OnSnapshotRestored);
    }

    [Fact]
    public void An_ISecretProvider_that_does_not_implement_the_hook_ignores_it()
    {
        ISecretProvider other = new NotRestorable();
        other.OnSnapshotRestored(); // the default implementation: nothing to do, nothing thrown
    }

    // The rotation re-check pause is jittered from the provider's generator: two providers from one snapshot state pause alike
    // (Random.Shared would not put them in lockstep, nor could a restore seed it again), and apart once the hook ran.
    [Fact]
    public async Task Rotation_recheck_jitter_comes_from_the_provider_randomness_which_the_hook_seeds_again()
    {
        using var first = Restorable.Create(seed: 7);
        using var second = Restorable.Create(seed: 7);

        var before = (await first.RecheckPauseAsync(), await second.RecheckPauseAsync());
        Assert.Equal(before.Item1, before.Item2);

        first.Provider.OnSnapshotRestored();
        second.Provider.OnSnapshotRestored();
        var after = (await first.RecheckPauseAsync(), await second.RecheckPauseAsync());
        Assert.NotEqual(after.Item1, after.Item2);
        foreach (var pause in new[] { before.Item1, after.Item1, after.Item2 })
        {
            Assert.InRange(pause, Restorable.RecheckDelay / 2, Restorable.RecheckDelay); // equal jitter: half fixed, half random
        }
    }

    /// <summary>A provider over a fake source whose randomness starts from <c>seed</c>; TTL 10 min, jitter 0.5, no refresh-ahead.</summary>
    private sealed class Restorable : IDisposable
    {
        private Restorable(FakeTimeProvider time, SecretsCacheRuntime runtime, FakeSecretSource source)
        {
            Time = time;
            Runtime = runtime;
            Source = source;
            Provider = new SecretProvider(runtime);
        }

        public FakeTimeProvider Time { get; }

        public SecretsCacheRuntime Runtime { get; }

        public FakeSecretSource Source { get; }

        public SecretProvider Provider { get; }

        public static Restorable Create(int seed, Action<SecretsCacheOptions>? configure = null, FakeTimeProvider? time = null)
        {
            time ??= new FakeTimeProvider();
            var options = new SecretsCacheOptions { DefaultTtl = TimeSpan.FromMinutes(10), TtlJitter = 0.5, RefreshAheadFraction = 1 };
            configure?.Invoke(options);
            var source = new FakeSecretSource(time);
            return new Restorable(time, SecretsCacheRuntime.Create(source, options, time, null, null, random: null, seeded: new Random(seed)), source);
        }

        public async Task LoadAsync(int count)
        {
            for (var i = 0; i < count; i++)
            {
                Source.Set(Key(i), "value-" + i);
                await Provider.GetStringAsync(Key(i)); // one after another: the draws come in one order
            }
        }

        public static readonly TimeSpan RecheckDelay = TimeSpan.FromSeconds(4);

        /// <summary>
        /// Runs ExecuteAsync with an operation every version fails, and returns the pause before its first re-check: the one
        /// timer it waits on. Then cancels it.
        /// </summary>
        public async Task<TimeSpan> RecheckPauseAsync()
        {
            Source.Set("app/db", "pw");
            using var stop = new CancellationTokenSource();
            var options = new RotationOptions
            {
                IsAuthenticationFailure = static e => e is UnauthorizedAccessException,
                RecheckDelay = RecheckDelay,
                MaxRecheckDelay = RecheckDelay,
                TryPendingVersion = false,
                TimeBudget = TimeSpan.FromMinutes(5),
            };
            var run = Provider.ExecuteAsync<int>("app/db", static (_, _) => throw new UnauthorizedAccessException(), options, stop.Token).AsTask();
            Eventually.True(() => Time.TimersDueWithin(RecheckDelay) == 1, "the re-check to wait on the clock");
            var pause = Time.NextTimerDue!.Value;
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
            return pause;
        }

        public long[] Schedules(int count) => [.. Enumerable.Range(0, count).Select(i => Value(i).ExpiresAt)];

        public SecretsCache.Caching.CachedValue Value(int i) => Provider.Engine.ValueOf(Key(i)) ?? throw new InvalidOperationException($"{Key(i)} is not cached.");

        public void Dispose() => Provider.Dispose();

        private static string Key(int i) => $"app/key-{i:00}";
    }

    /// <summary>A clock whose wall time runs ahead of its monotonic time by <see cref="Stored"/>: a snapshot stored while the machine's monotonic clock stood still.</summary>
    private sealed class StoredSnapshotClock : FakeTimeProvider
    {
        public TimeSpan Stored { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Stored;
    }

    private sealed class NotRestorable : ISecretProvider
    {
        public ValueTask<Secret> GetAsync(string reference, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask<Secret> RefreshAsync(string reference, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public void Invalidate(string reference) => throw new NotSupportedException();

        public void InvalidateAll() => throw new NotSupportedException();

        public Task<IReadOnlyDictionary<string, Secret>> GetPathAsync(string path, bool recursive = true, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<WarmUpResult> WarmUpAsync(IEnumerable<string> references, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
