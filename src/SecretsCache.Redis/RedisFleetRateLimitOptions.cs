namespace SecretsCache.Redis;

/// <summary>
/// Fleet-wide token buckets kept in Redis, one per quota, that hold every instance together to the AWS quotas whatever the
/// fleet's size. The bucket is sized so that the fleet's busiest second stays under the quota, blocks and burst included.
/// </summary>
public sealed class RedisFleetRateLimitOptions
{
    /// <summary>GetSecretValue + DescribeSecret per second for the whole fleet. Default 5,500. 0 turns this bucket off.</summary>
    public double SecretsManagerRequestsPerSecond { get; set; } = 5_500;

    /// <summary>BatchGetSecretValue calls per second for the whole fleet. Default 100, AWS's quota. 0 turns this bucket off.</summary>
    public double SecretsManagerBatchRequestsPerSecond { get; set; } = 100;

    /// <summary>Parameter Store reads per second for the whole fleet. Default 40, the standard-throughput quota. 0 turns this bucket off.</summary>
    public double ParameterStoreRequestsPerSecond { get; set; } = 40;

    /// <summary>How many seconds' worth of requests the fleet may send at once (the bucket's size). Default 0.1.</summary>
    public double BurstSeconds { get; set; } = 0.1;

    /// <summary>The most tokens one instance takes in one round trip to Redis, to save round trips under load. Default 10.</summary>
    public int MaxBlock { get; set; } = 10;

    /// <summary>
    /// How long tokens taken in a block stay usable, counted from the request that took them; unused ones are dropped, so a
    /// block cannot be saved up and spent later in a busier second. Default 100 ms.
    /// </summary>
    public TimeSpan BlockLifetime { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The fleet size assumed while Redis is unreachable by an instance that has not seen the fleet in Redis yet (it started
    /// with Redis down): each instance then falls back to its static share of each quota, by
    /// <see cref="RateLimitOptions.ShareAcross"/>'s rule. Once Redis has answered, the fleet's size is learnt instead (each
    /// instance counts the others in Redis every 5 s), and the share is cut for the largest size seen in the last minute
    /// times <see cref="FallbackGrowthMargin"/>; for its first 15 s an instance takes the larger of that and this value, as
    /// it has not seen the instances started after it. Default 10.
    /// </summary>
    public int FallbackFleetSize { get; set; } = 10;

    /// <summary>
    /// Room for the fleet to grow while Redis is unreachable: the static share is cut for the observed fleet size times this
    /// (see <see cref="FallbackFleetSize"/>). Default 2, a fleet that doubles during an outage; 1 uses the whole quota when
    /// the fleet stays as it was. Between 1 and 100.
    /// </summary>
    public double FallbackGrowthMargin { get; set; } = 2;

    internal void Validate(List<string> errors)
    {
        CheckQuota(errors, SecretsManagerRequestsPerSecond, nameof(SecretsManagerRequestsPerSecond));
        CheckQuota(errors, SecretsManagerBatchRequestsPerSecond, nameof(SecretsManagerBatchRequestsPerSecond));
        CheckQuota(errors, ParameterStoreRequestsPerSecond, nameof(ParameterStoreRequestsPerSecond));
        if (double.IsNaN(BurstSeconds) || BurstSeconds is <= 0 or > 60)
        {
            errors.Add("FleetRateLimits.BurstSeconds must be above 0 and at most 60.");
        }

        if (MaxBlock is < 1 or > 1_000)
        {
            errors.Add("FleetRateLimits.MaxBlock must be between 1 and 1000.");
        }

        RedisL2Options.RequireBetween(errors, BlockLifetime, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(10), "FleetRateLimits.BlockLifetime");
        if (FallbackFleetSize < 1)
        {
            errors.Add("FleetRateLimits.FallbackFleetSize must be at least 1.");
        }

        if (double.IsNaN(FallbackGrowthMargin) || FallbackGrowthMargin is < 1 or > 100)
        {
            errors.Add("FleetRateLimits.FallbackGrowthMargin must be between 1 and 100.");
        }
    }

    private static void CheckQuota(List<string> errors, double quota, string name)
    {
        // Below 2/s the burst (at least one request) would leave no room for a refill within the quota.
        if (double.IsNaN(quota) || double.IsInfinity(quota) || quota < 0 || (quota > 0 && quota < 2))
        {
            errors.Add($"FleetRateLimits.{name} must be 0 (off) or at least 2.");
        }
    }
}
