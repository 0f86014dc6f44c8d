using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using SecretsCache.Redis.FleetLimit;
using SecretsCache.Redis.Tests.Provider;
using SecretsCache.Redis.Tests.Support;

namespace SecretsCache.Redis.Tests.FleetLimit;

/// <summary>
/// The static share a fleet-wide limiter falls back to while Redis is unreachable: a fallback that begins after Redis
/// answered starts it empty, its first token at a random moment within one refill period, so a fleet that loses Redis at
/// once does not send every instance's burst in the same second; and a wait in a share with seconds between tokens ends
/// when Redis answers again, at a reconnect or after the breaker's first break. Each test has a server of its own (it is
/// killed or paused).
/// </summary>
public sealed class FleetFallbackTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static void OneInstanceShare(RedisL2Options o)
    {
        o.FleetRateLimits.SecretsManagerRequestsPerSecond = 100;
        o.FleetRateLimits.BurstSeconds = 0.5; // a share of 66.7/s with a burst of 33 requests
        o.FleetRateLimits.FallbackFleetSize = 1;
    }

    [RedisFact]
    public async Task A_share_left_full_while_Redis_answered_is_emptied_when_the_fallback_begins()
    {
        await using var server = await RedisServer.StartNewAsync();
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var level = await Levels.CreateAsync(server, Levels.NewNamespace(), Levels.NewKey(), OneInstanceShare, time);
        var limiter = level.FleetLimiter[FleetQuota.SecretsManager]!;
        time.Advance(TimeSpan.FromSeconds(2)); // unused while Redis answers: the share fills up
        Assert.True(limiter.FallbackHasTokenNow);
        Assert.Equal(FleetPermitSource.Fleet, (await level.FleetLimiter.AcquireAsync(FleetQuota.SecretsManager)).Source);

        var failed = RedisRestartTests.Failed(level);
        await server.KillAsync();
        await failed.WaitAsync(Bound);

        // The first request of the fallback finds no burst waiting for it: it gets the share's first token, within a period.
        var first = level.FleetLimiter.AcquireAsync(FleetQuota.SecretsManager).AsTask();
        Assert.False(first.IsCompleted);
        Assert.False(limiter.FallbackHasTokenNow);
        time.Advance(limiter.FallbackPeriod);
        Assert.Equal(FleetPermitSource.Fallback, (await first.WaitAsync(Bound)).Source);
    }

    /// <summary>A fleet bucket of 100/s, and a static share of one token in about 30 hours: a wait in it never ends by itself here.</summary>
    private static void NearlyNoShare(RedisL2Options o)
    {
        o.FleetRateLimits.SecretsManagerRequestsPerSecond = 100;
        o.FleetRateLimits.FallbackFleetSize = 10_000_000;
    }

    [RedisFact]
    public async Task A_wait_in_the_static_share_ends_when_the_connection_is_restored()
    {
        await using var server = await RedisServer.StartNewAsync();
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var level = await Levels.CreateAsync(server, Levels.NewNamespace(), Levels.NewKey(), NearlyNoShare, time);
        var limiter = level.FleetLimiter[FleetQuota.SecretsManager]!;
        Assert.Equal(FleetPermitSource.Fleet, (await level.FleetLimiter.AcquireAsync(FleetQuota.SecretsManager)).Source);

        var failed = RedisRestartTests.Failed(level);
        var restored = RedisRestartTests.Restored(level);
        await server.KillAsync();
        await failed.WaitAsync(Bound);
        var waiting = level.FleetLimiter.AcquireAsync(FleetQuota.SecretsManager).AsTask();
        await Wait.UntilAsync(() => limiter.FallbackQueued == 1, seconds: 60);

        // The clock stands still: only the reconnect can end this wait. Before the fix it lasted until the share's token.
        await server.StartAsync();
        await restored.WaitAsync(Bound);
        Assert.Equal(FleetPermitSource.Fleet, (await waiting.WaitAsync(Bound)).Source);
        Assert.Equal(0, limiter.FallbackQueued);
        Assert.False(limiter.FallingBack);
    }

    [RedisFact]
    public async Task A_wait_in_the_static_share_asks_Redis_again_after_the_breakers_first_break()
    {
        await using var server = await RedisServer.StartNewAsync();
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var level = await Levels.CreateAsync(server, Levels.NewNamespace(), Levels.NewKey(), o =>
        {
            NearlyNoShare(o);
            o.OperationTimeout = TimeSpan.FromMilliseconds(250); // on the test's clock: only its steps below end a call
        }, time);
        var limiter = level.FleetLimiter[FleetQuota.SecretsManager]!;
        Assert.Equal(FleetPermitSource.Fleet, (await level.FleetLimiter.AcquireAsync(FleetQuota.SecretsManager)).Source);
        await using var admin = await server.ConnectAdminAsync();

        // The connection stays up while Redis does not answer: the call times out (on the test's clock) and falls back.
        await admin.GetServers()[0].ExecuteAsync("CLIENT", "PAUSE", "2000", "ALL");
        var waiting = level.FleetLimiter.AcquireAsync(FleetQuota.SecretsManager).AsTask();
        await Wait.UntilAsync(() =>
        {
            time.Advance(TimeSpan.FromMilliseconds(10)); // past the 250 ms operation timeout, in steps, until the call has given up
            return limiter.FallbackQueued == 1;
        }, seconds: 60);
        Assert.Equal(1, limiter.FallbackQueued);
        await admin.GetDatabase().PingAsync(); // answered once the pause is over
        Assert.False(waiting.IsCompleted);

        // Redis answers again, and nothing told this instance: the wait ends after the first break, not at the share's token.
        time.Advance(new RedisCircuitBreakerOptions().FirstBreakDuration); // the default, 1 s
        Assert.Equal(FleetPermitSource.Fleet, (await waiting.WaitAsync(Bound)).Source);
        Assert.Equal(0, limiter.FallbackQueued);
    }

    [RedisFact]
    public async Task A_fleet_limit_call_not_answered_in_time_while_Redis_is_up_is_asked_once_more_before_the_static_share_decides()
    {
        await using var server = await RedisServer.StartNewAsync();
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        using var errors = new MetricCollector<long>(meters, SecretsCacheTelemetry.MeterName, "secretscache.l2.errors");
        using var fallbacks = new MetricCollector<long>(meters, SecretsCacheTelemetry.MeterName, "secretscache.fleet_limiter.fallbacks");
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var level = await Levels.CreateAsync(server, Levels.NewNamespace(), Levels.NewKey(), o =>
        {
            NearlyNoShare(o);
            o.OperationTimeout = TimeSpan.FromMilliseconds(250); // on the test's clock: only its steps below end a call
        }, time, meters);
        var limiter = level.FleetLimiter[FleetQuota.SecretsManager]!;
        Assert.Equal(FleetPermitSource.Fleet, (await level.FleetLimiter.AcquireAsync(FleetQuota.SecretsManager)).Source);
        await using var admin = await server.ConnectAdminAsync();

        // A slow moment, not an outage: the connection stays up and the breaker closed while one call goes unanswered.
        await admin.GetServers()[0].ExecuteAsync("CLIENT", "PAUSE", "20000", "WRITE");
        Task<FleetPermit> waiting;
        try
        {
            waiting = level.FleetLimiter.AcquireAsync(FleetQuota.SecretsManager).AsTask();
            await Wait.UntilAsync(() =>
            {
                if (errors.GetMeasurementSnapshot().Any(m => (string?)m.Tags["secretscache.l2.operation"] == "fleet_limit"))
                {
                    return true;
                }

                time.Advance(TimeSpan.FromMilliseconds(10)); // past the 250 ms operation timeout, in steps, until the call has given up
                return false;
            }, seconds: 60);
        }
        finally
        {
            await admin.GetServers()[0].ExecuteAsync("CLIENT", "UNPAUSE");
        }

        // Asked again at once, and answered: before, the share (a token in 30 hours) waited for the breaker's first break.
        Assert.Equal(FleetPermitSource.Fleet, (await waiting.WaitAsync(Bound)).Source);
        Assert.Empty(fallbacks.GetMeasurementSnapshot());
        Assert.False(limiter.FallingBack);
    }

    [RedisFact]
    public async Task Reads_that_open_the_breaker_leave_the_fleet_limit_on_the_fleet_bucket_while_its_own_calls_are_answered()
    {
        // The user may do everything the documented ACL allows but read entries: its reads fail (and open the breaker of
        // reads), the bucket's script does not. Before the fix one breaker served both, so the limiter fell back to a share
        // cut for a fleet of 10,000,000 (here: no token for hours) as soon as reads had failed.
        await using var server = await RedisServer.StartNewAsync();
        var @namespace = Levels.NewNamespace();
        await using (var admin = await server.ConnectAdminAsync())
        {
            await admin.GetServers()[0].ExecuteAsync("ACL", Connection.SecureConnectionTests.AclFor("reader", "pw-reader", @namespace, without: ["get", "getrange"]));
        }

        await using var level = await Levels.CreateAsync(server, @namespace, Levels.NewKey(), o =>
        {
            NearlyNoShare(o);
            (o.User, o.Password) = ("reader", "pw-reader");
        });
        for (var i = 0; i < 2 * new RedisCircuitBreakerOptions().MinimumThroughput && !level.Connection.Guard.IsOpen; i++)
        {
            Assert.Null((await level.Store.ReadAsync("app/s" + i)).Entry);
        }

        Assert.True(level.Connection.Guard.IsOpen, "the refused reads should open the breaker of reads");
        var limiter = level.FleetLimiter[FleetQuota.SecretsManager]!;
        for (var i = 0; i < 3; i++)
        {
            var permit = await level.FleetLimiter.AcquireAsync(FleetQuota.SecretsManager).AsTask().WaitAsync(Bound);
            Assert.Equal(FleetPermitSource.Fleet, permit.Source);
        }

        Assert.False(limiter.FallingBack);
    }
}
