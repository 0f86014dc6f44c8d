namespace SecretsCache;

/// <summary>What a request over the client-side rate limit does.</summary>
public enum RateLimitBehavior
{
    /// <summary>Wait for a token (bounded by the call's time budget). The default.</summary>
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
    public double SecretsManagerRequestsPerSecond { get; set; } = 1_000;

    /// <summary>Secrets Manager BatchGetSecretValue calls per second from this process, a quota of its own. Default 100 (the AWS quota). 0 disables.</summary>
    public double SecretsManagerBatchRequestsPerSecond { get; set; } = 100;

    /// <summary>Parameter Store requests per second from this process. Default 40 (the standard-throughput quota). 0 disables.</summary>
    public double ParameterStoreRequestsPerSecond { get; set; } = 40;

    /// <summary>
    /// How many seconds' worth of requests may go out at once (the bucket's size, rounded down, at least one request).
    /// Default 0.1: a fleet whose instances each take a share of the quota then exceeds it by at most a tenth in any one
    /// second, where a full second of burst per instance could double it.
    /// </summary>
    /// <remarks>
    /// A rate whose burst is below one request (a fleet share such as 40/s over 500 instances, 0.08/s each) starts with an
    /// empty bucket and gets its first token at a random moment within one interval (1 / rate): instances that start together
    /// then spread their first requests over that interval instead of all sending one in the same second. Such a share
    /// trades a first-request wait of up to that interval for staying under the fleet's quota.
    /// </remarks>
    public double BurstSeconds { get; set; } = 0.1;

    /// <summary>What a request over the limit does. Default <see cref="RateLimitBehavior.Wait"/>.</summary>
    public RateLimitBehavior Behavior { get; set; } = RateLimitBehavior.Wait;

    /// <summary>How many requests may wait per service before further ones fail. Default 10,000.</summary>
    public int QueueLimit { get; set; } = 10_000;
}
