using SecretsCache.Redis.Connection;
using SecretsCache.Resilience;

namespace SecretsCache.Redis.FleetLimit;

/// <summary>
/// The fleet-wide rate limit: one Redis bucket per AWS quota, shared by every instance of the namespace, so the fleet
/// stays under the quotas whatever its size, without <see cref="RateLimitOptions.ShareAcross"/>. While Redis is
/// unreachable each instance falls back to its static share (the quota over <see cref="RedisFleetRateLimitOptions.FallbackFleetSize"/>).
/// </summary>
internal sealed class FleetRateLimiter : IDisposable
{
    private readonly FleetQuotaLimiter?[] _limiters;

    public FleetRateLimiter(RedisConnection connection, RedisFleetRateLimitOptions options)
    {
        var shares = new RateLimitOptions { BurstSeconds = options.BurstSeconds }.ShareAcross(
            options.FallbackFleetSize,
            Positive(options.SecretsManagerRequestsPerSecond),
            Positive(options.SecretsManagerBatchRequestsPerSecond),
            Positive(options.ParameterStoreRequestsPerSecond));
        _limiters =
        [
            Create(connection, "sm", options.SecretsManagerRequestsPerSecond, options, StaticShare(shares.SecretsManagerRequestsPerSecond, options, connection.Time)),
            Create(connection, "sm-batch", options.SecretsManagerBatchRequestsPerSecond, options, StaticShare(shares.SecretsManagerBatchRequestsPerSecond, options, connection.Time)),
            Create(connection, "ssm", options.ParameterStoreRequestsPerSecond, options, StaticShare(shares.ParameterStoreRequestsPerSecond, options, connection.Time)),
        ];
    }

    public FleetQuotaLimiter? this[FleetQuota quota] => _limiters[(int)quota];

    /// <summary>Waits for a permit of <paramref name="quota"/> (bounded by the caller's token); never throws for Redis.</summary>
    public ValueTask<FleetPermit> AcquireAsync(FleetQuota quota, CancellationToken cancellationToken = default) =>
        _limiters[(int)quota] is { } limiter
            ? limiter.AcquireAsync(cancellationToken)
            : ValueTask.FromResult(new FleetPermit(FleetPermitSource.Unlimited, 0));

    public void Dispose()
    {
        foreach (var limiter in _limiters)
        {
            limiter?.Dispose();
        }
    }

    /// <summary>The fleet's quota of <paramref name="quota"/> per second (0: off).</summary>
    internal static double QuotaOf(FleetQuota quota, RedisFleetRateLimitOptions options) => quota switch
    {
        FleetQuota.SecretsManagerBatch => options.SecretsManagerBatchRequestsPerSecond,
        FleetQuota.ParameterStore => options.ParameterStoreRequestsPerSecond,
        _ => options.SecretsManagerRequestsPerSecond,
    };

    /// <summary>This instance's static share of <paramref name="quota"/> (the quota over <see cref="RedisFleetRateLimitOptions.FallbackFleetSize"/>), as a bucket.</summary>
    internal static ClientRateLimiter StaticShareOf(FleetQuota quota, RedisFleetRateLimitOptions options, TimeProvider time)
    {
        var shares = new RateLimitOptions { BurstSeconds = options.BurstSeconds }.ShareAcross(
            options.FallbackFleetSize,
            Positive(options.SecretsManagerRequestsPerSecond),
            Positive(options.SecretsManagerBatchRequestsPerSecond),
            Positive(options.ParameterStoreRequestsPerSecond));
        return StaticShare(quota switch
        {
            FleetQuota.SecretsManagerBatch => shares.SecretsManagerBatchRequestsPerSecond,
            FleetQuota.ParameterStore => shares.ParameterStoreRequestsPerSecond,
            _ => shares.SecretsManagerRequestsPerSecond,
        }, options, time);
    }

    /// <summary>
    /// A token bucket at this instance's share, burst included (at least one request), on the provider's clock (the core's
    /// client-side bucket). It starts full, as the core's buckets with a burst do; a fallback that begins after Redis answered
    /// empties it first (<see cref="ClientRateLimiter.StartEmpty"/>), since a fleet that loses Redis at once would otherwise
    /// send every instance's burst in the same second.
    /// </summary>
    internal static ClientRateLimiter StaticShare(double perSecond, RedisFleetRateLimitOptions options, TimeProvider time) => new(
        "Secrets Manager or Parameter Store (fleet fallback)",
        perSecond,
        new RateLimitOptions { BurstSeconds = options.BurstSeconds, Behavior = RateLimitBehavior.Wait, QueueLimit = 10_000 },
        time);

    private static FleetQuotaLimiter? Create(RedisConnection connection, string quota, double perSecond, RedisFleetRateLimitOptions options, ClientRateLimiter fallback)
    {
        if (perSecond <= 0)
        {
            fallback.Dispose();
            return null;
        }

        return new FleetQuotaLimiter(connection, quota, perSecond, options, fallback);
    }

    private static double Positive(double quota) => quota > 0 ? quota : 1;
}
