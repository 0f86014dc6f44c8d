using System.ComponentModel.DataAnnotations;

namespace SecretsCache;

/// <summary>What a request over the client-side rate limit does.</summary>
public enum RateLimitBehavior
{
    /// <summary>Wait for a token, bounded by <see cref="SecretsCacheOptions.FetchTimeout"/>; the first request's wait does not spend <see cref="RetryOptions.TotalTimeout"/>. The default.</summary>
    Wait,

    /// <summary>Fail at once with <see cref="SecretThrottledException"/> (error code <c>ClientRateLimited</c>).</summary>
    FailFast,
}

/// <summary>
/// Client-side token buckets, one per service, that keep this process under the AWS quotas. Requests are never dropped silently:
/// they wait or fail, as <see cref="Behavior"/> says.
/// </summary>
public sealed class RateLimitOptions
{
    /// <summary>Secrets Manager requests per second from this process. Default 1,000 (the regional quota for GetSecretValue is 10,000/s, our fleet bar 5,500/s). 0 disables.</summary>
    [Range(0d, double.MaxValue)]
    public double SecretsManagerRequestsPerSecond { get; set; } = Defaults.SecretsManagerRequestsPerSecond;

    /// <summary>Secrets Manager BatchGetSecretValue calls per second from this process, a quota of its own. Default 100 (the AWS quota). 0 disables.</summary>
    [Range(0d, double.MaxValue)]
    public double SecretsManagerBatchRequestsPerSecond { get; set; } = Defaults.SecretsManagerBatchRequestsPerSecond;

    /// <summary>Parameter Store requests per second from this process. Default 40 (the standard-throughput quota). 0 disables.</summary>
    [Range(0d, double.MaxValue)]
    public double ParameterStoreRequestsPerSecond { get; set; } = Defaults.ParameterStoreRequestsPerSecond;

    /// <summary>
    /// How many seconds' worth of requests may go out at once (the bucket's size, rounded down, at least one request, and
    /// smaller where the refill step would otherwise let one second exceed rate × (1 + BurstSeconds)).
    /// Default 0.1: a fleet whose instances each take a share of the quota then exceeds it by at most a tenth in any one
    /// second, where a full second of burst per instance could double it.
    /// </summary>
    /// <remarks>
    /// A rate whose burst is below one request (a fleet share such as 40/s over 500 instances, 0.08/s each) starts with an
    /// empty bucket and gets its first token at a random moment within one interval (1 / rate): instances that start together
    /// then spread their first requests over that interval instead of all sending one in the same second. Such a share
    /// trades a first-request wait of up to that interval for staying under the fleet's quota.
    /// </remarks>
    [Range(0d, 60d, MinimumIsExclusive = true)]
    public double BurstSeconds { get; set; } = Defaults.BurstSeconds;

    /// <summary>What a request over the limit does. Default <see cref="RateLimitBehavior.Wait"/>.</summary>
    public RateLimitBehavior Behavior { get; set; } = RateLimitBehavior.Wait;

    /// <summary>How many requests may wait per service before further ones fail. Default 10,000.</summary>
    [Range(0, int.MaxValue)]
    public int QueueLimit { get; set; } = Defaults.QueueLimit;

    /// <summary>
    /// Sets the three rates to this process's share of quotas that <paramref name="instances"/> processes share, by the
    /// sizing rule (docs/benchmarks.md): <c>quota / (instances × (1 + BurstSeconds))</c>, so no second exceeds the quota; a
    /// share below one request of burst starts at a random phase, and then leaves room for the fleet's random arrivals (its
    /// mean μ solves μ + 3√μ = quota). Set <see cref="BurstSeconds"/> first.
    /// </summary>
    /// <param name="instances">How many processes share the quotas (the fleet's size at its largest).</param>
    /// <param name="secretsManagerQuota">GetSecretValue + DescribeSecret per second for the fleet. Default 5,500, the bar this
    /// library is tested to hold; AWS's GetSecretValue quota is 10,000/s, for everything in the account and region.</param>
    /// <param name="batchQuota">BatchGetSecretValue per second for the fleet. Default 100, AWS's quota.</param>
    /// <param name="parameterStoreQuota">Parameter Store reads per second for the fleet. Default 40, the standard-throughput quota.</param>
    /// <returns>These options.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An instance count below one, or a quota that is not positive.</exception>
    public RateLimitOptions ShareAcross(int instances, double secretsManagerQuota = 5_500, double batchQuota = 100, double parameterStoreQuota = 40)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(instances, 1);
        var secretsManager = Resilience.FleetShare.PerInstance(secretsManagerQuota, instances, BurstSeconds, nameof(secretsManagerQuota));
        var batch = Resilience.FleetShare.PerInstance(batchQuota, instances, BurstSeconds, nameof(batchQuota));
        var parameterStore = Resilience.FleetShare.PerInstance(parameterStoreQuota, instances, BurstSeconds, nameof(parameterStoreQuota));
        (SecretsManagerRequestsPerSecond, SecretsManagerBatchRequestsPerSecond, ParameterStoreRequestsPerSecond) = (secretsManager, batch, parameterStore);
        return this;
    }
}
