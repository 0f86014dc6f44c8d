using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using SecretsCache.Redis.Tests.Support;
using SecretsCache.Testing;
using StackExchange.Redis;

namespace SecretsCache.Redis.Tests.Provider;

/// <summary>Redis killed and restarted under whole providers: no caller sees an error, and the second level comes back by itself.</summary>
public sealed class RedisRestartTests : IAsyncLifetime
{
    private const string GetSecretValue = "secretsmanager.GetSecretValue";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private AwsEmulator _aws = null!;
    private RedisServer _server = null!;
    private FleetProviders _fleet = null!;

    public async Task InitializeAsync() => (_aws, _server, _fleet) = await FleetProviders.StartServersAsync();

    public Task DisposeAsync() => FleetProviders.StopServersAsync(_aws, _server, _fleet);

    private static void FastBreaker(RedisL2Options o)
    {
        o.OperationTimeout = TimeSpan.FromSeconds(1);
        o.ConnectTimeout = TimeSpan.FromSeconds(2);
        o.CircuitBreaker.MinimumThroughput = 2;
        o.CircuitBreaker.BreakDuration = TimeSpan.FromMilliseconds(500);
        o.FleetRateLimits.FallbackFleetSize = 1;
    }

    [RedisFact]
    public async Task Redis_killed_and_restarted_mid_run_costs_callers_no_error_and_the_second_level_resumes()
    {
        for (var i = 0; i < 4; i++)
        {
            _aws.CreateSecret($"app/s{i}", $"value-{i}");
        }

        var a = await _fleet.StartAsync(configureRedis: FastBreaker);
        var b = await _fleet.StartAsync(configureRedis: FastBreaker);
        Assert.Equal("value-0", await a.GetStringAsync("app/s0"));
        Assert.Equal("value-0", await b.GetStringAsync("app/s0"));
        Assert.Equal(1, _aws.Requests.Count(GetSecretValue));
        var restored = Restored(FleetProviders.LevelOf(a), FleetProviders.LevelOf(b));

        await _server.KillAsync();

        // Reads, forced refreshes, warm-ups and invalidations all work, from L1 and AWS.
        Assert.Equal("value-1", await a.GetStringAsync("app/s1"));
        Assert.Equal("value-1", await b.GetStringAsync("app/s1"));
        Assert.Equal("value-0", (await b.RefreshAsync("app/s0")).GetString());
        Assert.Equal(2, (await a.WarmUpAsync(["app/s2", "app/s3"])).Loaded);
        a.Invalidate("app/s0");
        b.InvalidateAll();
        Assert.Equal("value-0", await a.GetStringAsync("app/s0"));
        Assert.Equal("value-3", await b.GetStringAsync("app/s3"));

        await _server.StartAsync(); // same port, empty
        await restored.WaitAsync(Bound);

        // Once the breaker lets calls through again, what a fetches from AWS is in Redis for b, and a third provider starts on it.
        await Wait.UntilAsync(
            async () =>
            {
                a.Invalidate("app/s2");
                await a.GetStringAsync("app/s2");
                return (await FleetProviders.LevelOf(b).Store.ReadAsync("sm:app/s2")).IsHit;
            },
            seconds: 10,
            diagnose: () => "The second level did not resume after the reconnect.");
        var c = await _fleet.StartAsync(configureRedis: FastBreaker);
        var calls = _aws.Requests.Count(GetSecretValue);
        Assert.Equal("value-2", await c.GetStringAsync("app/s2"));
        Assert.Equal(calls, _aws.Requests.Count(GetSecretValue));
    }

    [RedisFact]
    public async Task Refreshes_due_while_Redis_is_down_wait_for_it_so_the_fleet_fetches_each_key_once_and_nobody_waits_on_the_dead_Redis()
    {
        string[] keys = ["app/a", "app/b"];
        foreach (var key in keys)
        {
            _aws.CreateSecret(key, key + "-v1");
        }

        _aws.CreateSecret("app/cold", "cold");
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow()); // near the real time: the emulator checks signatures' dates
        var fleet = new SecretProvider[4];
        for (var i = 0; i < fleet.Length; i++)
        {
            fleet[i] = await _fleet.StartAsync(o => o.DefaultTtl = TimeSpan.FromMinutes(1), time: time, meters: meters);
        }

        foreach (var provider in fleet)
        {
            foreach (var key in keys)
            {
                Assert.Equal(key + "-v1", await provider.GetStringAsync(key));
            }
        }

        Assert.Equal(keys.Length, _aws.Requests.Count(GetSecretValue)); // one fetch per key, the rest from Redis
        var warmedAt = time.GetUtcNow();
        var levels = fleet.Select(FleetProviders.LevelOf).ToArray();
        var restored = Restored(levels);
        var failed = Failed(levels);
        await _server.KillAsync();
        await failed.WaitAsync(Bound);

        // A key no one holds goes to AWS at once, within the static share: the dead Redis costs it nothing (the clock moves
        // only by the share's refill periods, far less than a Redis timeout).
        using var fetched = new MetricCollector<double>(meters, SecretsCacheTelemetry.MeterName, "secretscache.fetch.duration");
        Assert.Equal("cold", await ReadWhileFallingBackAsync(fleet[0], "app/cold", time));

        // Every value is in its refresh-ahead window (shared entries: from 0.90-0.95 of the 60 s TTL, by key), none has
        // expired: each read answers from L1 at once and starts a refresh in the background.
        time.Advance(TimeSpan.FromSeconds(57.5) - (time.GetUtcNow() - warmedAt));
        foreach (var provider in fleet)
        {
            foreach (var key in keys)
            {
                var read = provider.GetAsync(key);
                Assert.True(read.IsCompletedSuccessfully);
                Assert.Equal(key + "-v1", (await read).GetString());
            }
        }

        var duringOutage = _aws.Requests.Count(GetSecretValue);
        await _server.StartAsync(); // same port, empty
        await restored.WaitAsync(Bound);
        await fetched.WaitForMeasurementsAsync(1 + (fleet.Length * keys.Length), Bound);

        // Through the fleet's lease once Redis is back: one AWS fetch per key, not one per instance and key.
        Assert.Equal(keys.Length, _aws.Requests.Count(GetSecretValue) - duringOutage);
        // Every instance holds the refreshed value: past the old value's TTL it is still fresh, and nothing more is fetched.
        // (A read joins a refresh still storing its outcome, so it cannot race it.)
        time.Advance(TimeSpan.FromSeconds(10));
        foreach (var provider in fleet)
        {
            foreach (var key in keys)
            {
                Assert.Equal(key + "-v1", await provider.GetStringAsync(key));
            }
        }

        Assert.Equal(duringOutage + keys.Length, _aws.Requests.Count(GetSecretValue));
    }

    [RedisFact]
    public async Task Once_Redis_is_back_the_fleet_uses_it_at_once_instead_of_waiting_out_a_breaker_the_outage_opened()
    {
        for (var i = 0; i < 3; i++)
        {
            _aws.CreateSecret($"app/s{i}", $"value-{i}");
        }

        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var fleet = new SecretProvider[3];
        for (var i = 0; i < fleet.Length; i++)
        {
            fleet[i] = await _fleet.StartAsync(time: time);
        }

        var levels = fleet.Select(FleetProviders.LevelOf).ToArray();
        var restored = Restored(levels);
        var failed = Failed(levels);
        await _server.KillAsync();
        await failed.WaitAsync(Bound);

        // Misses while Redis is down: each goes to AWS (and, before the fix, opened the level's breaker for 5 s of a clock
        // that stands still here).
        foreach (var provider in fleet)
        {
            Assert.Equal("value-0", await ReadWhileFallingBackAsync(provider, "app/s0", time));
            Assert.Equal("value-1", await ReadWhileFallingBackAsync(provider, "app/s1", time));
        }

        await _server.StartAsync();
        await restored.WaitAsync(Bound);
        await Task.WhenAll(levels.Select(Levels.SubscribedAsync));
        var before = _aws.Requests.Count(GetSecretValue);

        foreach (var provider in fleet)
        {
            Assert.Equal("value-2", await provider.GetStringAsync("app/s2"));
        }

        Assert.Equal(1, _aws.Requests.Count(GetSecretValue) - before); // the first fetched and wrote Redis; the others read it
    }

    /// <summary>
    /// A read that goes to AWS while Redis is down: the fleet limiter's static share starts empty when the fallback begins, so
    /// the stopped clock is moved on by refill periods until the read has its token (bounded in steps and time).
    /// </summary>
    // Each step is one refill of a 500/s share (the default fallback fleet of 10).
    private static Task<string> ReadWhileFallingBackAsync(SecretProvider provider, string key, FakeTimeProvider time) =>
        Wait.AdvancingAsync(provider.GetStringAsync(key).AsTask(), time, step: TimeSpan.FromMilliseconds(20), patience: TimeSpan.FromMilliseconds(200), steps: 100, Bound);

    /// <summary>Completes when every level has seen its connection fail (StackExchange.Redis's ConnectionFailed), registered before the kill.</summary>
    internal static Task Failed(params RedisSecondLevel[] levels) => WhenEach(levels, static (m, handler) => m.ConnectionFailed += handler);

    /// <summary>Completes when every level's connection is restored (StackExchange.Redis's ConnectionRestored), registered before the kill.</summary>
    internal static Task Restored(params RedisSecondLevel[] levels) => WhenEach(levels, static (m, handler) => m.ConnectionRestored += handler);

    private static Task WhenEach(RedisSecondLevel[] levels, Action<IConnectionMultiplexer, EventHandler<ConnectionFailedEventArgs>> subscribe) =>
        Task.WhenAll(levels.Select(level =>
        {
            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            subscribe(level.Connection.Multiplexer, (_, e) =>
            {
                if (e.ConnectionType == ConnectionType.Interactive)
                {
                    seen.TrySetResult();
                }
            });
            return seen.Task;
        }));
}
