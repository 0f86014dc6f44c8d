using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Time.Testing;
using SecretsCache.Redis.FleetLimit;
using SecretsCache.Redis.Tests.Support;
using StackExchange.Redis;

namespace SecretsCache.Redis.Tests.FleetLimit;

/// <summary>
/// The fleet's size, learnt while Redis is up (a sorted set of random ids, refreshed every few seconds by one script per
/// level), so that the static share a fleet limiter falls back to is the quota over the fleet that really runs.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed partial class FleetPresenceTests(RedisServer server)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly string _ns = Levels.NewNamespace();
    private readonly byte[] _key = Levels.NewKey();

    [RedisFact]
    public async Task Levels_on_one_namespace_each_count_the_whole_fleet_within_one_refresh_and_Redis_holds_only_random_ids()
    {
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var fleet = await Levels.FleetAsync(server, 4, _ns, _key, time: time);
        try
        {
            // Each said it was there when it was made, and counted those made before it.
            Assert.Equal([1, 2, 3, 4], fleet.Select(l => Presence(l).ObservedSize));

            await RefreshAllByTimerAsync(fleet, time);

            Assert.All(fleet, l => Assert.Equal(4, Presence(l).ObservedSize));
            await using var admin = await server.ConnectAdminAsync();
            var members = await admin.GetDatabase().SortedSetRangeByRankAsync($"sc:{_ns}:fleet");
            Assert.Equal(4, members.Length);
            Assert.All(members, m => Assert.Matches(RandomId(), m.ToString()));
        }
        finally
        {
            await Levels.DisposeAllAsync(fleet);
        }
    }

    [RedisFact]
    public async Task A_tick_right_after_a_refresh_ended_is_not_skipped_as_if_it_still_ran()
    {
        // The refresh used to say it had ended before it let the next tick in: a clock moved on at once found it "running",
        // skipped that tick, and the next refresh came an interval late (a CI failure: RefreshAllByTimerAsync timed out).
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var level = await Levels.CreateAsync(server, _ns, _key, time: time);
        for (var i = 0; i < 300; i++)
        {
            var next = Presence(level).NextRefresh;
            time.Advance(FleetPresence.Interval);
            await next.WaitAsync(TimeSpan.FromSeconds(10)); // skipped: nothing ends it until the clock moves again
        }
    }

    [RedisFact]
    public async Task The_timer_refreshes_once_per_interval_on_the_providers_clock_and_not_before()
    {
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var level = await Levels.CreateAsync(server, _ns, _key, time: time);
        await using var other = await Levels.CreateAsync(server, _ns, _key, time: time);
        Assert.Equal(1, Presence(level).ObservedSize);

        var next = Presence(level).NextRefresh;
        time.Advance(FleetPresence.Interval - TimeSpan.FromMilliseconds(1));
        Assert.False(next.IsCompleted);
        Assert.Equal(1, Presence(level).ObservedSize);

        time.Advance(TimeSpan.FromMilliseconds(1));
        await next.WaitAsync(Bound);
        Assert.Equal(2, Presence(level).ObservedSize);
    }

    [RedisFact]
    public async Task A_shrinking_fleet_lowers_the_size_only_once_the_larger_count_is_a_minute_of_answers_old()
    {
        await using var level = await Levels.CreateAsync(server, _ns, _key);
        await using var admin = await server.ConnectAdminAsync();
        var db = admin.GetDatabase();
        var set = new RedisKey($"sc:{_ns}:fleet");
        var now = await RedisNowMillisecondsAsync(db);
        var others = Enumerable.Range(0, 5).Select(i => new SortedSetEntry("other-" + i, now)).ToArray();
        await db.SortedSetAddAsync(set, others);
        await Presence(level).RefreshAsync();
        Assert.Equal(6, Presence(level).ObservedSize);

        await db.SortedSetRemoveAsync(set, [.. others.Select(o => o.Element)]); // five instances gone
        for (var i = 1; i < FleetPresence.Memory; i++)
        {
            await Presence(level).RefreshAsync();
            Assert.Equal(6, Presence(level).ObservedSize);
        }

        await Presence(level).RefreshAsync();
        Assert.Equal(1, Presence(level).ObservedSize);
    }

    [RedisFact]
    public async Task A_corrupt_presence_set_is_pruned_capped_or_replaced_and_never_breaks_the_level()
    {
        await using var level = await Levels.CreateAsync(server, _ns, _key);
        await using var admin = await server.ConnectAdminAsync();
        var db = admin.GetDatabase();
        var set = new RedisKey($"sc:{_ns}:fleet");
        var now = await RedisNowMillisecondsAsync(db);

        // Entries older than the window and entries dated in the future (no instance writes those) do not count.
        await db.SortedSetAddAsync(set,
        [
            new SortedSetEntry("stale", now - (2 * FleetPresence.Window.TotalMilliseconds)),
            new SortedSetEntry("future", now + TimeSpan.FromDays(365).TotalMilliseconds),
            new SortedSetEntry("garbage-\u0000\u00ff", double.PositiveInfinity),
            new SortedSetEntry("old-garbage", double.NegativeInfinity),
        ]);
        await Presence(level).RefreshAsync();
        Assert.Equal(1, Presence(level).ObservedSize);
        Assert.Equal(1, await db.SortedSetLengthAsync(set));

        // A flood of planted members is cut down to the cap, and the size believed is at most the cap.
        var flood = Enumerable.Range(0, FleetPresence.MaxFleetSize + 500).Select(i => new SortedSetEntry("planted-" + i.ToString(CultureInfo.InvariantCulture), now)).ToArray();
        foreach (var chunk in flood.Chunk(1_000))
        {
            await db.SortedSetAddAsync(set, chunk);
        }

        await Presence(level).RefreshAsync();
        Assert.Equal(FleetPresence.MaxFleetSize, Presence(level).ObservedSize);
        Assert.Equal(FleetPresence.MaxFleetSize, await db.SortedSetLengthAsync(set));
        var newest = await db.SortedSetRangeByRankAsync(set, -1, -1);
        Assert.Matches(RandomId(), newest.Single().ToString()); // the oldest went: this instance's own entry stays

        // Another type under the name (WRONGTYPE for every ZSET command) is replaced, not a Redis failure.
        await db.KeyDeleteAsync(set);
        await db.StringSetAsync(set, "not a sorted set");
        for (var i = 0; i < 10; i++)
        {
            await Presence(level).RefreshAsync();
        }

        Assert.Equal(RedisType.SortedSet, await db.KeyTypeAsync(set));
        Assert.Equal(1, await db.SortedSetLengthAsync(set));
        Assert.False(level.Connection.Guard.IsOpen);
        Assert.Equal(FleetPermitSource.Fleet, (await level.FleetLimiter.AcquireAsync(FleetQuota.SecretsManager)).Source);
    }

    [Theory]
    [MemberData(nameof(Replies))]
    public void A_reply_that_is_not_a_size_within_bounds_is_malformed(RedisResultKind kind, int? expected)
    {
        var reply = kind switch
        {
            RedisResultKind.Five => RedisResult.Create((RedisValue)5),
            RedisResultKind.One => RedisResult.Create((RedisValue)1),
            RedisResultKind.Cap => RedisResult.Create((RedisValue)FleetPresence.MaxFleetSize),
            RedisResultKind.Zero => RedisResult.Create((RedisValue)0),
            RedisResultKind.Negative => RedisResult.Create((RedisValue)(-3)),
            RedisResultKind.AboveCap => RedisResult.Create((RedisValue)(FleetPresence.MaxFleetSize + 1)),
            RedisResultKind.Huge => RedisResult.Create((RedisValue)long.MaxValue),
            RedisResultKind.Text => RedisResult.Create((RedisValue)"12"),
            RedisResultKind.Null => RedisResult.Create(RedisValue.Null),
            _ => RedisResult.Create([RedisResult.Create((RedisValue)5)]),
        };

        Assert.Equal(expected, FleetPresence.Parse(reply));
    }

    public enum RedisResultKind
    {
        Five,
        One,
        Cap,
        Zero,
        Negative,
        AboveCap,
        Huge,
        Text,
        Null,
        Array,
    }

    public static TheoryData<RedisResultKind, int?> Replies() => new()
    {
        { RedisResultKind.Five, 5 },
        { RedisResultKind.One, 1 },
        { RedisResultKind.Cap, FleetPresence.MaxFleetSize },
        { RedisResultKind.Zero, null },
        { RedisResultKind.Negative, null },
        { RedisResultKind.AboveCap, null },
        { RedisResultKind.Huge, null },
        { RedisResultKind.Text, null },
        { RedisResultKind.Null, null },
        { RedisResultKind.Array, null },
    };

    [RedisFact]
    public async Task Until_it_has_watched_the_fleet_for_a_window_an_instance_cuts_its_share_for_at_least_FallbackFleetSize()
    {
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var fleet = await Levels.FleetAsync(server, 2, _ns, _key, o => o.FleetRateLimits.FallbackFleetSize = 10, time);
        try
        {
            var presence = Presence(fleet[1]);
            Assert.Equal(2, presence.ObservedSize);
            Assert.False(presence.Settled);
            Assert.Equal(10, presence.FallbackSize(10, 2)); // 2 × 2 is less than 10: it may not have seen the others yet

            for (var elapsed = TimeSpan.Zero; elapsed < FleetPresence.Window; elapsed += FleetPresence.Interval)
            {
                await RefreshAllByTimerAsync(fleet, time);
            }

            Assert.True(presence.Settled);
            Assert.Equal(4, presence.FallbackSize(10, 2));
            Assert.Equal(3, presence.FallbackSize(10, 1.5));
        }
        finally
        {
            await Levels.DisposeAllAsync(fleet);
        }
    }

    internal static FleetPresence Presence(RedisSecondLevel level) => level.FleetLimiter.Presence!;

    /// <summary>Moves the clock one refresh interval on and waits (bounded) until every level's timer-driven refresh has ended.</summary>
    internal static async Task RefreshAllByTimerAsync(IEnumerable<RedisSecondLevel> levels, FakeTimeProvider time)
    {
        var refreshed = levels.Select(l => Presence(l).NextRefresh).ToArray();
        time.Advance(FleetPresence.Interval);
        await Task.WhenAll(refreshed).WaitAsync(Bound);
    }

    private static async Task<double> RedisNowMillisecondsAsync(IDatabase db)
    {
        var clock = (RedisResult[])(await db.ExecuteAsync("TIME"))!;
        return (long.Parse((string)clock[0]!, CultureInfo.InvariantCulture) * 1000) + (long.Parse((string)clock[1]!, CultureInfo.InvariantCulture) / 1000);
    }

    [GeneratedRegex("^[0-9A-F]{32}$")]
    private static partial Regex RandomId();
}
