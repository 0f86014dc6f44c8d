using SecretsCache.Redis.Connection;
using SecretsCache.Resilience;

namespace SecretsCache.Redis.FleetLimit;

/// <summary>
/// The fleet-wide rate limit: one Redis bucket per AWS quota, shared by every instance of the namespace, so the fleet
/// stays under the quotas whatever its size, without <see cref="RateLimitOptions.ShareAcross"/>. While Redis is
/// unreachable each instance falls back to its static share: the quota over the fleet size learnt while Redis was up
/// (<see cref="FleetPresence"/>), times <see cref="RedisFleetRateLimitOptions.FallbackGrowthMargin"/>; over
/// <see cref="RedisFleetRateLimitOptions.FallbackFleetSize"/> when nothing was observed yet.
/// </summary>
internal sealed class FleetRateLimiter : IDisposable
{
    private readonly FleetQuotaLimiter?[] _limiters;

    public FleetRateLimiter(RedisConnection connection, RedisFleetRateLimitOptions options)
    {
        Presence = options.SecretsManagerRequestsPerSecond > 0 || options.SecretsManagerBatchRequestsPerSecond > 0 || options.ParameterStoreRequestsPerSecond > 0
            ? new FleetPresence(connection)
            : null;
        _limiters =
        [
            Create(connection, FleetQuota.SecretsManager, "sm", options, Presence),
            Create(connection, FleetQuota.SecretsManagerBatch, "sm-batch", options, Presence),
            Create(connection, FleetQuota.ParameterStore, "ssm", options, Presence),
        ];
    }

    /// <summary>The fleet's size as this instance sees it (null when every quota is off).</summary>
    public FleetPresence? Presence { get; }

    public FleetQuotaLimiter? this[FleetQuota quota] => _limiters[(int)quota];

    /// <summary>Takes the provider's static share of <paramref name="quota"/> as that quota's fallback (<see cref="FleetQuotaLimiter.Adopt"/>).</summary>
    public void Adopt(FleetQuota quota, ClientRateLimiter share) => _limiters[(int)quota]?.Adopt(share);

    /// <summary>Waits for a permit of <paramref name="quota"/> (bounded by the caller's token); never throws for Redis.</summary>
    public ValueTask<FleetPermit> AcquireAsync(FleetQuota quota, CancellationToken cancellationToken = default) =>
        _limiters[(int)quota] is { } limiter
            ? limiter.AcquireAsync(cancellationToken)
            : ValueTask.FromResult(new FleetPermit(FleetPermitSource.Unlimited, 0));

    public void Dispose()
    {
        Presence?.Dispose();
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

    /// <summary>
    /// This instance's static share of <paramref name="quota"/> in a fleet of <paramref name="fleetSize"/> (by
    /// <see cref="RateLimitOptions.ShareAcross"/>'s rule), as a token bucket, burst included (at least one request), on the
    /// provider's clock (the core's client-side bucket). It starts full, as the core's buckets with a burst do; a fallback
    /// that begins after Redis answered empties it first (<see cref="ClientRateLimiter.StartEmpty"/>), since a fleet that
    /// loses Redis at once would otherwise send every instance's burst in the same second.
    /// </summary>
    internal static ClientRateLimiter StaticShareOf(FleetQuota quota, RedisFleetRateLimitOptions options, int fleetSize, TimeProvider time)
    {
        var shares = new RateLimitOptions { BurstSeconds = options.BurstSeconds }.ShareAcross(
            fleetSize,
            Positive(options.SecretsManagerRequestsPerSecond),
            Positive(options.SecretsManagerBatchRequestsPerSecond),
            Positive(options.ParameterStoreRequestsPerSecond));
        return new(
            "Secrets Manager or Parameter Store (fleet fallback)",
            quota switch
            {
                FleetQuota.SecretsManagerBatch => shares.SecretsManagerBatchRequestsPerSecond,
                FleetQuota.ParameterStore => shares.ParameterStoreRequestsPerSecond,
                _ => shares.SecretsManagerRequestsPerSecond,
            },
            new RateLimitOptions { BurstSeconds = options.BurstSeconds, Behavior = RateLimitBehavior.Wait, QueueLimit = 10_000 },
            time);
    }

    private static FleetQuotaLimiter? Create(RedisConnection connection, FleetQuota quota, string name, RedisFleetRateLimitOptions options, FleetPresence? presence) =>
        QuotaOf(quota, options) > 0 ? new FleetQuotaLimiter(connection, quota, name, options, presence) : null;

    private static double Positive(double quota) => quota > 0 ? quota : 1;
}
