namespace SecretsCache.Redis.FleetLimit;

/// <summary>The AWS quotas the fleet shares, one bucket each.</summary>
internal enum FleetQuota
{
    SecretsManager,
    SecretsManagerBatch,
    ParameterStore,
}

/// <summary>How a request was let through.</summary>
internal enum FleetPermitSource
{
    /// <summary>The quota is off (0).</summary>
    Unlimited,

    /// <summary>A token of the fleet-wide bucket.</summary>
    Fleet,

    /// <summary>Redis was unreachable: this instance's static share allowed it.</summary>
    Fallback,

    /// <summary>Redis was unreachable and the static share's queue is full: the request must not go.</summary>
    Rejected,

    /// <summary>
    /// The fleet's batch queue reaches further ahead than <see cref="FleetBucket.BatchHorizon"/>: the batch is not sent, and its
    /// secrets are read one by one under GetSecretValue's quota, which moves 55 times the requests.
    /// </summary>
    QueuedTooLong,
}

/// <summary>A permit, and when it was granted (<see cref="TimeProvider.GetTimestamp"/> of the limiter's clock).</summary>
internal readonly record struct FleetPermit(FleetPermitSource Source, long GrantedAt)
{
    public bool IsAcquired => Source is not (FleetPermitSource.Rejected or FleetPermitSource.QueuedTooLong);
}
