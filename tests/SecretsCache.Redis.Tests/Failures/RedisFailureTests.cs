using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using SecretsCache.Redis.Connection;
using SecretsCache.Redis.Backplane;
using SecretsCache.Redis.FleetLimit;
using SecretsCache.Redis.Lease;
using SecretsCache.Redis.Storage;
using SecretsCache.Redis.Tests.Backplane;
using SecretsCache.Redis.Tests.Support;

namespace SecretsCache.Redis.Tests.Failures;

/// <summary>Redis down at start-up, killed mid-run, restarted, slow: no caller sees an error, and reconnecting is automatic. Each test has a server of its own.</summary>
public sealed class RedisFailureTests
{
    private const string Key = "sm:app/db";
    private const int Reconnect = 30; // seconds for reconnecting, and the breaker's pause, to be over
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);
    private readonly string _ns = Levels.NewNamespace();
    private readonly byte[] _key = Levels.NewKey();

    private static void FastBreaker(RedisL2Options o)
    {
        o.OperationTimeout = TimeSpan.FromSeconds(1); // a loaded machine may take 300 ms to answer; a dead Redis fails at once anyway
        o.ConnectTimeout = TimeSpan.FromSeconds(2);
        o.CircuitBreaker.MinimumThroughput = 2;
        o.CircuitBreaker.BreakDuration = TimeSpan.FromMilliseconds(500);
        o.FleetRateLimits.FallbackFleetSize = 1;
    }

    private static Secret Value(string value) => Levels.Secret("app/db", value, "version-1-000000000000000000000000", TimeProvider.System.GetUtcNow());

    [RedisFact]
    public async Task Redis_killed_mid_run_is_a_miss_for_every_primitive_and_after_a_restart_everything_works_again()
    {
        await using var server = await RedisServer.StartNewAsync();
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        await using var a = await Levels.CreateAsync(server, _ns, _key, FastBreaker, meters: meters);
        await using var b = await Levels.CreateAsync(server, _ns, _key, FastBreaker);
        using var errors = new MetricCollector<long>(meters, SecretsCacheTelemetry.MeterName, "secretscache.l2.errors");
        b.Backplane.Track(Key);
        var received = RedisBackplaneTests.Collect(b)[0];
        Assert.True(await a.Store.WriteAsync(Key, Value("before"), Ttl));

        var restored = Provider.RedisRestartTests.Restored(a, b);
        var failed = Provider.RedisRestartTests.Failed(a, b);
        await server.KillAsync();
        await failed.WaitAsync(TimeSpan.FromSeconds(60));

        await AssertEveryPrimitiveFallsBackAsync(a);
        // Once the client knows the connection is down, calls are not sent at all: no timeout, and nothing for the breaker,
        // whose pause would outlast the outage.
        Assert.Contains(errors.GetMeasurementSnapshot(), m => (string?)m.Tags["error.type"] == "Disconnected");
        Assert.DoesNotContain(errors.GetMeasurementSnapshot(), m => (string?)m.Tags["error.type"] == "BrokenCircuitException");

        await server.StartAsync(); // Same port, empty (no persistence): a restarted Redis.
        await restored.WaitAsync(TimeSpan.FromSeconds(60)); // StackExchange.Redis reconnected both (and the breaker closed)
        await Wait.UntilAsync(async () => (await a.Store.ReadAsync(Key)).Reason == L2MissReason.Absent, Reconnect);
        await Wait.UntilAsync(async () => await b.Store.WriteAsync(Key, Value("after"), Ttl), Reconnect);
        await Wait.UntilAsync(async () => (await a.Store.ReadAsync(Key)).Entry?.Secret.GetString() == "after", Reconnect);
        await Wait.UntilAsync(async () => (await a.Lease.TryAcquireAsync("sm:app/other")).Status == LeaseStatus.Acquired, Reconnect);
        await Wait.UntilAsync(async () => (await a.FleetLimiter.AcquireAsync(FleetQuota.SecretsManager)).Source == FleetPermitSource.Fleet, Reconnect); // The script, loaded again.
        // The subscription made before the crash is restored: a's change reaches b (a message sent before b resubscribed is lost, so send until one arrives).
        await Wait.UntilAsync(
            async () =>
            {
                await a.Backplane.PublishAsync(BackplaneKind.Changed, [(Key, "v2")]);
                return await received.Reader.WaitToReadAsync().AsTask().WaitAsync(TimeSpan.FromMilliseconds(500)).ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default);
            },
            Reconnect);
        Assert.Equal(BackplaneKind.Changed, (await RedisBackplaneTests.NextAsync(received)).Kind);
    }

    [RedisFact]
    public async Task Redis_unreachable_at_start_up_creates_a_level_that_misses_and_connects_once_Redis_is_there()
    {
        var port = RedisServer.FreePort();
        var options = Levels.Options($"127.0.0.1:{port}", _ns, _key, FastBreaker);
        await using var early = await RedisSecondLevel.CreateAsync(options).WaitAsync(TimeSpan.FromSeconds(30));

        await AssertEveryPrimitiveFallsBackAsync(early);
        Assert.False(early.Backplane.IsSubscribed);

        await using var server = await RedisServer.StartNewAsync(s => s.Port = port);
        await using var late = await Levels.CreateAsync(server, _ns, _key, FastBreaker);
        early.Backplane.Track(Key);
        var received = RedisBackplaneTests.Collect(early)[0];
        await Wait.UntilAsync(async () => await early.Store.WriteAsync(Key, Value("written-once-up"), Ttl), Reconnect, () => $"connected={early.Connection.Multiplexer.IsConnected} open={early.Connection.Guard.IsOpen} {early.Connection.Multiplexer.GetStatus()}");
        Assert.Equal("written-once-up", (await late.Store.ReadAsync(Key)).Entry!.Secret.GetString());
        // The backplane subscribes by itself once the connection is up.
        await Wait.UntilAsync(() => early.Backplane.IsSubscribed, Reconnect);
        await late.Backplane.PublishAsync(BackplaneKind.Invalidated, [(Key, null)]);
        Assert.Equal(BackplaneKind.Invalidated, (await RedisBackplaneTests.NextAsync(received)).Kind);
    }

    [RedisFact]
    public async Task A_slow_Redis_costs_a_read_at_most_the_operation_timeout_and_is_a_miss()
    {
        await using var server = await RedisServer.StartNewAsync();
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        await using var level = await Levels.CreateAsync(server, _ns, _key, o => o.OperationTimeout = TimeSpan.FromMilliseconds(200), meters: meters);
        using var errors = new MetricCollector<long>(meters, SecretsCacheTelemetry.MeterName, "secretscache.l2.errors");
        await using var admin = await server.ConnectAdminAsync();
        Assert.True(await level.Store.WriteAsync(Key, Value("cached"), Ttl));

        // Every client is paused, this one included (so it cannot unpause): the pause ends by itself.
        await admin.GetServers()[0].ExecuteAsync("CLIENT", "PAUSE", "3000", "ALL");
        var read = await level.Store.ReadAsync(Key).AsTask().WaitAsync(TimeSpan.FromSeconds(8));

        // Had the read waited for Redis it would have been a hit: a miss means it gave up after its timeout.
        Assert.Equal(L2MissReason.Unavailable, read.Reason);
        // A timeout, or, on a machine too loaded to judge it within another timeout, a busy-process miss (LateAnswerTests).
        Assert.Contains(errors.GetMeasurementSnapshot(), m => (string?)m.Tags["error.type"] is nameof(TimeoutException) or nameof(ProcessBusyException) && (string?)m.Tags["secretscache.l2.operation"] == "l2_read");
        await Wait.UntilAsync(async () => (await level.Store.ReadAsync(Key)).IsHit, Reconnect);
    }

    private static async Task AssertEveryPrimitiveFallsBackAsync(RedisSecondLevel level)
    {
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(L2MissReason.Unavailable, (await level.Store.ReadAsync(Key)).Reason);
            Assert.False(await level.Store.WriteAsync(Key, Value("v"), Ttl));
            Assert.False(await level.Store.RemoveAsync(Key));
            Assert.Equal(LeaseStatus.Unavailable, (await level.Lease.TryAcquireAsync(Key)).Status);
            Assert.False(await level.Backplane.PublishAsync(BackplaneKind.Changed, [(Key, "v")]));
            Assert.False(await level.LeaseResults.PublishAsync(new byte[32], LeaseOutcome.Fetched));
            Assert.Equal(FleetPermitSource.Fallback, (await level.FleetLimiter.AcquireAsync(FleetQuota.SecretsManager)).Source);
        }

        var fetches = 0;
        var read = await level.SingleFlight.GetOrFetchAsync(Key, Ttl, _ =>
        {
            fetches++;
            return ValueTask.FromResult(Value("from-aws"));
        });
        Assert.Equal((FleetSource.Aws, "from-aws", 1), (read.Source, read.Entry.Secret.GetString(), fetches));
        // The fetch's own errors still reach the caller, as they would without a second level.
        await Assert.ThrowsAsync<SecretNotFoundException>(() => level.SingleFlight.GetOrFetchAsync(Key, Ttl, _ => throw new SecretNotFoundException("missing", "app/db")).AsTask());
    }
}
