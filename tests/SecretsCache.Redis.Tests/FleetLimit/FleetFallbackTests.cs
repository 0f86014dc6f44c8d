using Microsoft.Extensions.Time.Testing;
using SecretsCache.Redis.FleetLimit;
using SecretsCache.Redis.Tests.Provider;
using SecretsCache.Redis.Tests.Support;

namespace SecretsCache.Redis.Tests.FleetLimit;

/// <summary>
/// The static share a fleet-wide limiter falls back to while Redis is unreachable: a fallback that begins after Redis
/// answered starts it empty, its first token at a random moment within one refill period, so a fleet that loses Redis at
/// once does not send every instance's burst in the same second. Each test has a server of its own (it is killed).
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
}
