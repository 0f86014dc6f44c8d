using System.Diagnostics.Metrics;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using SecretsCache.Redis.FleetLimit;
using SecretsCache.Redis.Tests.Support;
using StackExchange.Redis;

namespace SecretsCache.Redis.Tests.FleetLimit;

[Collection(RedisCollection.Name)]
public sealed class FleetBucketTests(RedisServer server)
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan HammerFor = TimeSpan.FromSeconds(3);
    private readonly string _ns = Levels.NewNamespace();
    private readonly byte[] _key = Levels.NewKey();

    [Theory]
    [InlineData(5_500, 0.1, 100)]
    [InlineData(100, 0.1, 100)]
    [InlineData(40, 0.1, 100)]
    [InlineData(2, 0.1, 100)]
    [InlineData(40, 1, 500)]
    public void The_bucket_is_sized_so_that_the_busiest_second_is_the_quota(double quota, double burst, int lifetimeMs)
    {
        var lifetime = TimeSpan.FromMilliseconds(lifetimeMs);

        var size = FleetBucketSize.For(quota, burst, lifetime);

        Assert.True(size.Capacity >= 1);
        Assert.True(size.Rate > 0);
        Assert.Equal(quota, size.Capacity + (size.Rate * (1 + lifetime.TotalSeconds)), 9);
    }

    [RedisFact]
    public async Task Connections_hammering_the_script_are_granted_no_more_than_rate_times_window_plus_burst_in_any_second()
    {
        var size = FleetBucketSize.For(200, 0.1, TimeSpan.FromMilliseconds(100));
        var fleet = await Levels.FleetAsync(server, 4, _ns, _key);
        var bucket = fleet[0].Connection.Names.Bucket("hammer");
        try
        {
            var grants = new List<(long ServerMicros, long Granted)>();
            var deadline = Stopwatch.StartNew();
            var loops = fleet.SelectMany(level => Enumerable.Range(0, 8).Select(async worker =>
            {
                var random = new Random(worker);
                for (var i = 0; i < 100_000 && deadline.Elapsed < HammerFor; i++)
                {
                    // Every half second all callers pause for 150 ms: the bucket fills up, and the next burst tests its size.
                    var phase = deadline.Elapsed.TotalMilliseconds % 500;
                    if (phase < 150)
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(150 - phase), TimeProvider.System);
                    }

                    var grant = await FleetBucket.TakeAsync(level.Connection.Database, bucket, size, random.Next(1, 6));
                    lock (grants)
                    {
                        // A reservation's tokens count from when they are usable: Redis's time of the grant plus the wait.
                        grants.Add((grant.ServerMicroseconds + (long)grant.RetryAfter.TotalMicroseconds, grant.Granted));
                    }

                    if (grant.RetryAfter > TimeSpan.Zero)
                    {
                        await Task.Delay(grant.RetryAfter, TimeProvider.System);
                    }
                }
            }));
            await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(60));

            var busiest = BusiestWindow(grants.Where(g => g.Granted > 0).ToList(), (long)Window.TotalMicroseconds);
            Assert.True(busiest <= size.Capacity + (size.Rate * Window.TotalSeconds),
                $"{busiest} tokens in one second, above capacity {size.Capacity:0.##} + rate {size.Rate:0.##}.");
            // And it does grant: about the rate over the whole run (a bucket that granted nothing would pass the bound).
            var total = grants.Sum(g => g.Granted);
            Assert.True(total >= size.Rate * HammerFor.TotalSeconds * 0.5, $"only {total} tokens in {HammerFor.TotalSeconds} s");
        }
        finally
        {
            await Levels.DisposeAllAsync(fleet);
        }
    }

    [RedisFact]
    public async Task Instances_taking_tokens_in_blocks_stay_under_the_quota_in_any_second_and_count_their_waits()
    {
        const double Quota = 100;
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        var fleet = new RedisSecondLevel[4];
        for (var i = 0; i < fleet.Length; i++)
        {
            // A generous call budget: on a loaded machine a slow call would (rightly) fall back to the static share, which this test is not about.
            fleet[i] = await Levels.CreateAsync(server, _ns, _key, o => (o.FleetRateLimits.SecretsManagerBatchRequestsPerSecond, o.OperationTimeout) = (Quota, TimeSpan.FromSeconds(10)), meters: meters);
        }

        using var waits = new MetricCollector<long>(meters, SecretsCacheTelemetry.MeterName, "secretscache.fleet_limiter.waits");
        try
        {
            var permits = new List<FleetPermit>();
            var deadline = Stopwatch.StartNew();
            // Sixteen callers in all: at 100 a second their queue stays within the batch horizon (a quarter second), beyond
            // which a batch is refused, for the warm-up to read one by one.
            var callers = fleet.SelectMany(level => Enumerable.Range(0, 4).Select(async _ =>
            {
                for (var i = 0; i < 10_000 && deadline.Elapsed < HammerFor; i++)
                {
                    var permit = await level.FleetLimiter.AcquireAsync(FleetQuota.SecretsManagerBatch);
                    lock (permits)
                    {
                        permits.Add(permit);
                    }
                }
            }));
            await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(60));

            Assert.All(permits, p => Assert.Equal(FleetPermitSource.Fleet, p.Source));
            var busiest = BusiestWindow(permits.Select(p => (p.GrantedAt, 1L)).ToList(), Stopwatch.Frequency);
            Assert.True(busiest <= Quota, $"{busiest} requests in one second, above the quota of {Quota}.");
            Assert.True(permits.Count >= Quota * HammerFor.TotalSeconds * 0.5, $"only {permits.Count} permits in {HammerFor.TotalSeconds} s");
            Assert.True(waits.GetMeasurementSnapshot().Count > 0);
            Assert.All(waits.GetMeasurementSnapshot(), m => Assert.Equal("sm-batch", m.Tags["secretscache.fleet.quota"]));
        }
        finally
        {
            await Levels.DisposeAllAsync(fleet);
        }
    }

    [RedisFact]
    public async Task An_empty_bucket_reserves_tokens_in_the_order_requests_reach_it_one_round_trip_each()
    {
        await using var level = await Levels.CreateAsync(server, _ns, _key);
        var size = FleetBucketSize.For(10, 0.1, TimeSpan.FromMilliseconds(100)); // capacity 1, rate 8.2/s
        var bucket = level.Connection.Names.Bucket("queue");
        var first = await FleetBucket.TakeAsync(level.Connection.Database, bucket, size, 1);
        Assert.Equal((1, TimeSpan.Zero), (first.Granted, first.RetryAfter)); // the burst: usable now

        var queued = new List<FleetGrant>();
        for (var i = 0; i < 6; i++)
        {
            queued.Add(await FleetBucket.TakeAsync(level.Connection.Database, bucket, size, 1));
        }

        // Each is granted at once, as a reservation, usable after the ones before it: about one refill period apart.
        Assert.All(queued, g => Assert.True(g.Reserved, $"granted {g.Granted}, wait {g.RetryAfter}"));
        var usable = queued.Select(g => g.ServerMicroseconds + (long)g.RetryAfter.TotalMicroseconds).ToList();
        var period = 1_000_000 / size.Rate;
        for (var i = 1; i < usable.Count; i++)
        {
            var gap = usable[i] - usable[i - 1];
            Assert.True(gap >= period * 0.9 && gap <= period * 1.1, $"reservation {i} usable {gap} µs after the one before (period {period:0} µs)");
        }
    }

    [RedisFact]
    public async Task A_request_that_would_wait_beyond_the_horizon_reserves_nothing_and_is_told_when_to_ask_again()
    {
        await using var level = await Levels.CreateAsync(server, _ns, _key);
        var size = FleetBucketSize.For(10, 0.1, TimeSpan.FromMilliseconds(100));
        var bucket = level.Connection.Names.Bucket("horizon");
        var horizonTokens = (int)Math.Floor(size.Rate * FleetBucket.Horizon.TotalSeconds);
        var filling = await FleetBucket.TakeAsync(level.Connection.Database, bucket, size, horizonTokens);
        Assert.True(filling.Reserved);
        Assert.True(filling.RetryAfter <= FleetBucket.Horizon);

        var refused = await FleetBucket.TakeAsync(level.Connection.Database, bucket, size, 5);
        var again = await FleetBucket.TakeAsync(level.Connection.Database, bucket, size, 5);

        Assert.Equal(0, refused.Granted);
        Assert.InRange(refused.RetryAfter, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(1)); // when 5 fit within the horizon again
        Assert.Equal(0, again.Granted); // the refused request took nothing: the queue did not move further out
        Assert.True(again.RetryAfter <= refused.RetryAfter);
    }

    [RedisFact]
    public async Task The_script_runs_by_its_SHA_and_is_sent_whole_only_when_Redis_does_not_know_it()
    {
        await using var level = await Levels.CreateAsync(server, _ns, _key);
        await using var admin = await server.ConnectAdminAsync();
        var redis = admin.GetServers()[0];
        var size = FleetBucketSize.For(100, 0.1, TimeSpan.FromMilliseconds(100));
        var bucket = level.Connection.Names.Bucket("script");
        await FleetBucket.TakeAsync(level.Connection.Database, bucket, size, 1); // Loaded once.
        await redis.ExecuteAsync("SCRIPT", "FLUSH");
        await redis.ExecuteAsync("CONFIG", "RESETSTAT");

        var afterFlush = await FleetBucket.TakeAsync(level.Connection.Database, bucket, size, 1);
        var (evalAfterFlush, evalShaAfterFlush) = await ScriptCallsAsync(redis);
        await FleetBucket.TakeAsync(level.Connection.Database, bucket, size, 1);
        var (evalLater, evalShaLater) = await ScriptCallsAsync(redis);

        Assert.Equal(1, afterFlush.Granted);
        Assert.Equal(1, evalAfterFlush);             // NOSCRIPT, so the whole script once...
        Assert.True(evalShaAfterFlush >= 1);         // ...after the EVALSHA that failed.
        Assert.Equal(evalAfterFlush, evalLater);     // Then by its SHA again.
        Assert.Equal(evalShaAfterFlush + 1, evalShaLater);
    }

    [RedisFact]
    public async Task Another_type_planted_under_the_buckets_name_is_replaced_by_a_bucket()
    {
        await using var level = await Levels.CreateAsync(server, _ns, _key);
        await using var admin = await server.ConnectAdminAsync();
        var size = FleetBucketSize.For(100, 0.1, TimeSpan.FromMinutes(1));
        var bucket = level.Connection.Names.Bucket("planted");
        await admin.GetDatabase().StringSetAsync(bucket, "not a bucket"); // no expiry: it would stay

        var grant = await FleetBucket.TakeAsync(level.Connection.Database, bucket, size, 1);

        Assert.Equal(1, grant.Granted);
        Assert.Equal(RedisType.Hash, await admin.GetDatabase().KeyTypeAsync(bucket));
        Assert.NotNull(await admin.GetDatabase().KeyTimeToLiveAsync(bucket));
    }

    [Fact]
    public void An_answer_out_of_range_is_refused()
    {
        Assert.Throws<RedisException>(() => FleetBucket.Parse(RedisResult.Create([RedisResult.Create(6), RedisResult.Create(0), RedisResult.Create((RedisValue)"1")]), want: 5));
        Assert.Throws<RedisException>(() => FleetBucket.Parse(RedisResult.Create(1), want: 5));
        Assert.Throws<RedisException>(() => FleetBucket.Parse(RedisResult.Create([RedisResult.Create(1), RedisResult.Create(-1), RedisResult.Create((RedisValue)"1")]), want: 5));
        Assert.Equal(2, FleetBucket.Parse(RedisResult.Create([RedisResult.Create(2), RedisResult.Create(0), RedisResult.Create((RedisValue)"17")]), want: 5).Granted);
    }

    /// <summary>The most tokens granted within any one window, over grants sorted by time (a sliding window starting at each grant).</summary>
    private static long BusiestWindow(List<(long Time, long Count)> grants, long window)
    {
        grants.Sort((a, b) => a.Time.CompareTo(b.Time));
        long busiest = 0, inWindow = 0;
        var start = 0;
        for (var end = 0; end < grants.Count; end++)
        {
            inWindow += grants[end].Count;
            while (grants[end].Time - grants[start].Time > window)
            {
                inWindow -= grants[start++].Count;
            }

            busiest = Math.Max(busiest, inWindow);
        }

        return busiest;
    }

    private static async Task<(long Eval, long EvalSha)> ScriptCallsAsync(IServer redis)
    {
        var info = (string)(await redis.ExecuteAsync("INFO", "commandstats"))!;
        return (Calls(info, "eval"), Calls(info, "evalsha"));

        static long Calls(string info, string command)
        {
            var line = info.Split('\n').FirstOrDefault(l => l.StartsWith($"cmdstat_{command}:", StringComparison.Ordinal));
            if (line is null)
            {
                return 0;
            }

            var calls = line.Split(':')[1].Split(',')[0]; // calls=N
            return long.Parse(calls["calls=".Length..], CultureInfo.InvariantCulture);
        }
    }
}
