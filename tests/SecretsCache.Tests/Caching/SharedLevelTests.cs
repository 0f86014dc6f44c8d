using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using SecretsCache.Caching;
using SecretsCache.Sources;

namespace SecretsCache.Tests.Caching;

/// <summary>
/// What a shared second level needs of the engine: a value's age counts from its AWS fetch (<see cref="Secret.FetchedAt"/>),
/// not from when this cache took it; sources are told why they are asked; invalidations are announced; and what other
/// instances announce is applied without being announced again.
/// </summary>
public sealed class SharedLevelTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task A_value_fetched_four_minutes_ago_with_a_five_minute_TTL_expires_one_minute_after_it_is_cached()
    {
        var source = new AgedSource(_time) { Age = TimeSpan.FromMinutes(4) };
        using var provider = Create(source);

        Assert.Equal("v1", (await provider.GetAsync("app/db")).GetString());
        _time.Advance(TimeSpan.FromMinutes(1) - TimeSpan.FromTicks(1));
        Assert.Equal("v1", (await provider.GetAsync("app/db")).GetString());
        Assert.Single(source.Reasons);

        _time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal("v2", (await provider.GetAsync("app/db")).GetString());
        Assert.Equal([FetchReason.Read, FetchReason.Read], source.Reasons);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_value_without_a_fetch_time_or_from_a_clock_ahead_lives_the_whole_TTL_from_now(bool ahead)
    {
        var source = new AgedSource(_time) { Age = ahead ? TimeSpan.FromMinutes(-3) : null };
        using var provider = Create(source);

        await provider.GetAsync("app/db");
        _time.Advance(Ttl - TimeSpan.FromTicks(1));
        Assert.Equal("v1", (await provider.GetAsync("app/db")).GetString());
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal("v2", (await provider.GetAsync("app/db")).GetString());
    }

    [Fact]
    public async Task A_value_older_than_its_TTL_is_served_to_the_read_that_fetched_it_and_not_kept_fresh()
    {
        var source = new AgedSource(_time) { Age = TimeSpan.FromMinutes(6) };
        using var provider = Create(source);

        Assert.Equal("v1", (await provider.GetAsync("app/db")).GetString());
        Assert.Equal("v2", (await provider.GetAsync("app/db")).GetString());
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.99)]
    public async Task A_shared_value_refreshes_at_the_point_its_key_gives_whatever_the_jitter_draws(double draw)
    {
        // Jitter of up to half the TTL and the provider's own fraction (0.5) would refresh this between 1.25 and 2.5 minutes;
        // a shared value refreshes at the point its key gives, between 0.8 and 0.9 of the whole 5 minutes, on every instance.
        var refreshAt = Ttl * (0.9 - (0.1 * CachePolicy.KeyDraw("sm:app/db")));
        var source = new AgedSource(_time) { Shared = 0.9 };
        var options = new SecretsCacheOptions { DefaultTtl = Ttl, TtlJitter = 0.5, RefreshAheadFraction = 0.5 };
        using var provider = new SecretProvider(source, options, _time, random: () => draw);

        await provider.GetAsync("app/db");
        _time.Advance(refreshAt - TimeSpan.FromMilliseconds(1));
        await provider.GetAsync("app/db");
        Assert.Equal([FetchReason.Read], source.Reasons);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal("v1", (await provider.GetAsync("app/db")).GetString()); // served; the refresh runs in the background
        await source.WhenCalled(2);
        Assert.Equal([FetchReason.Read, FetchReason.RefreshAhead], source.Reasons);
    }

    [Fact]
    public void Keys_spread_their_shared_refresh_points_by_a_draw_that_is_the_same_in_every_process()
    {
        // SHA-256 of the key's UTF-16 code units: a fixed function, so every instance of a fleet computes the same point.
        var draws = Enumerable.Range(0, 2_000).Select(i => CachePolicy.KeyDraw($"sm:app/secret-{i}")).ToList();

        Assert.All(draws, d => Assert.InRange(d, 0, 0.9999999999));
        Assert.Equal(draws, Enumerable.Range(0, 2_000).Select(i => CachePolicy.KeyDraw($"sm:app/secret-{i}")));
        var deciles = draws.GroupBy(d => (int)(d * 10)).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(10, deciles.Count);
        Assert.All(deciles.Values, n => Assert.InRange(n, 140, 260)); // 200 expected in each; fixed inputs, so not flaky
    }

    [Fact]
    public async Task A_value_the_source_does_not_share_keeps_the_jittered_schedule()
    {
        var source = new AgedSource(_time) { Shared = null };
        var options = new SecretsCacheOptions { DefaultTtl = Ttl, TtlJitter = 0.5, RefreshAheadFraction = 0.5 };
        using var provider = new SecretProvider(source, options, _time, random: () => 0.99);

        await provider.GetAsync("app/db"); // lifetime 5 min x (1 - 0.5 x 0.99) = 2.525 min; refresh-ahead at half of it
        _time.Advance(TimeSpan.FromMinutes(1.3));
        await provider.GetAsync("app/db");
        await source.WhenCalled(2);
        Assert.Equal([FetchReason.Read, FetchReason.RefreshAhead], source.Reasons);
    }

    [Fact]
    public async Task Sources_are_told_a_first_read_a_refresh_ahead_and_a_forced_refresh_apart()
    {
        var source = new AgedSource(_time);
        using var provider = Create(source, o => o.RefreshAheadFraction = 0.5);

        await provider.GetAsync("app/db");
        _time.Advance(TimeSpan.FromMinutes(3));
        await provider.GetAsync("app/db"); // inside the refresh-ahead window: served, and refreshed in the background
        await source.WhenCalled(2);
        await provider.RefreshAsync("app/db");

        Assert.Equal([FetchReason.Read, FetchReason.RefreshAhead, FetchReason.Forced], source.Reasons);
    }

    [Fact]
    public async Task An_announced_version_other_than_the_one_held_is_fetched_again_and_raises_the_change_once()
    {
        var source = new AgedSource(_time);
        using var provider = Create(source);
        var changes = new List<(string? From, string? To)>();
        provider.SecretChanged += (_, e) => changes.Add((e.OldVersion, e.NewVersion));
        await provider.GetAsync("app/db");

        Assert.False(provider.Engine.ApplyAnnouncedVersion("sm:app/db", "v1")); // the version held: nothing to do
        Assert.False(provider.Engine.ApplyAnnouncedVersion("sm:app/other", "v9")); // not held here
        Assert.True(provider.Engine.ApplyAnnouncedVersion("sm:app/db", "v2"));
        await source.WhenCalled(2);

        Assert.Equal("v2", (await provider.GetAsync("app/db")).GetString());
        Assert.Equal([FetchReason.Read, FetchReason.Announced], source.Reasons);
        Assert.Equal([("v1", "v2")], changes);
    }

    [Fact]
    public async Task Invalidations_here_are_announced_and_announced_ones_are_applied_without_being_announced_again()
    {
        var source = new AgedSource(_time);
        using var provider = Create(source);
        var announced = new Announcements();
        provider.Engine.Announcements = announced;
        await provider.GetAsync("app/db");
        await provider.GetAsync("app/other");

        provider.Invalidate("app/db");
        provider.InvalidateAll();
        Assert.Equal(["sm:app/db", "*"], announced.Seen);

        await provider.GetAsync("app/db");
        var token = provider.GetChangeToken("app/db");
        provider.Engine.ApplyAnnouncedInvalidation("sm:app/db");
        Assert.True(token.HasChanged);
        Assert.Equal(0, provider.Count);
        await provider.GetAsync("app/db");
        provider.Engine.ApplyAnnouncedInvalidateAll();
        Assert.Equal(0, provider.Count);
        Assert.Equal(["sm:app/db", "*"], announced.Seen); // nothing more: no echo
    }

    [Fact]
    public async Task Every_entry_that_leaves_the_L1_is_reported_dropped_once_it_is_out_of_the_index()
    {
        var source = new AgedSource(_time);
        using var provider = Create(source, o => o.MaxEntries = 2);
        var announced = new Announcements { Engine = provider.Engine };
        provider.Engine.Announcements = announced;
        await provider.GetAsync("app/a");
        await provider.GetAsync("app/b");
        Assert.True(provider.Engine.Holds("sm:app/a"));
        Assert.False(provider.Engine.Holds("sm:app/never"));

        await provider.GetAsync("app/c"); // over MaxEntries: one of a and b is evicted
        var evicted = Assert.Single(announced.Dropped);
        Assert.Contains(evicted.Key, new[] { "sm:app/a", "sm:app/b" });
        Assert.False(evicted.HeldThen);

        provider.Invalidate("app/c");
        provider.Engine.ApplyAnnouncedInvalidation(evicted.Key == "sm:app/a" ? "sm:app/b" : "sm:app/a");
        Assert.Equal(0, provider.Count);
        await provider.GetAsync("app/d");
        provider.InvalidateAll();
        provider.Invalidate("app/never"); // held nowhere: nothing dropped

        Assert.Equal(4, announced.Dropped.Count);
        Assert.Equal(["sm:app/a", "sm:app/b", "sm:app/c", "sm:app/d"], announced.Dropped.Select(d => d.Key).Order(StringComparer.Ordinal));
        Assert.All(announced.Dropped, d => Assert.False(d.HeldThen));
    }

    private SecretProvider Create(ISecretSource source, Action<SecretsCacheOptions>? configure = null)
    {
        var options = new SecretsCacheOptions { DefaultTtl = Ttl, TtlJitter = 0, RefreshAheadFraction = 1 };
        configure?.Invoke(options);
        return new SecretProvider(source, options, _time, random: () => 0.5);
    }

    private sealed class Announcements : IEngineAnnouncements
    {
        public List<string> Seen { get; } = [];

        public void Invalidated(string canonicalKey) => Seen.Add(canonicalKey);

        public void InvalidatedAll() => Seen.Add("*");

        public List<(string Key, bool HeldThen)> Dropped { get; } = [];

        public CacheEngine? Engine { get; set; }

        void IEngineAnnouncements.Dropped(string canonicalKey) => Dropped.Add((canonicalKey, Engine?.Holds(canonicalKey) ?? false));
    }

    /// <summary>Answers v1, v2, … fetched <see cref="Age"/> ago by the shared clock (no fetch time when null), and records why it was asked.</summary>
    private sealed class AgedSource(FakeTimeProvider time) : ISecretSource
    {
        private readonly ConcurrentQueue<FetchReason> _reasons = new();
        private readonly List<(int Count, TaskCompletionSource Reached)> _watches = [];
        private int _version;

        public TimeSpan? Age { get; init; } = TimeSpan.Zero;

        /// <summary>What <see cref="ISecretSource.SharedRefreshAheadFraction"/> answers: null for a value of this instance alone.</summary>
        public double? Shared { get; set; }

        public double? SharedRefreshAheadFraction(SecretReference reference) => Shared;

        public IReadOnlyList<FetchReason> Reasons => [.. _reasons];

        public Task WhenCalled(int count)
        {
            lock (_watches)
            {
                if (_reasons.Count >= count)
                {
                    return Task.CompletedTask;
                }

                var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _watches.Add((count, reached));
                return reached.Task.WaitAsync(TimeSpan.FromSeconds(30));
            }
        }

        public ValueTask<Secret> FetchAsync(SecretReference reference, Secret? current, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("The engine calls the overload with a reason.");

        public ValueTask<Secret> FetchAsync(SecretReference reference, Secret? current, FetchReason reason, CancellationToken cancellationToken)
        {
            var version = "v" + Interlocked.Increment(ref _version);
            var secret = new Secret(reference.Name, version)
            {
                VersionId = version,
                FetchedAt = Age is { } age ? time.GetUtcNow() - age : default,
            };
            lock (_watches)
            {
                _reasons.Enqueue(reason);
                foreach (var watch in _watches.Where(w => _reasons.Count >= w.Count).ToList())
                {
                    watch.Reached.TrySetResult();
                    _watches.Remove(watch);
                }
            }

            return ValueTask.FromResult(secret);
        }

        public ValueTask<IReadOnlyList<FetchOutcome>> FetchManyAsync(IReadOnlyList<SecretReference> references, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public Task<IReadOnlyList<Secret>> FetchPathAsync(string path, bool recursive, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }
}
