namespace SecretsCache.Resilience;

/// <summary>The sizing rule: one process's rate for a quota that a fleet of processes shares.</summary>
internal static class FleetShare
{
    /// <summary>
    /// In any one second a process sends at most its rate plus its burst, so a share with a burst of a request or more is
    /// quota / (instances × (1 + burstSeconds)). A smaller share starts at a random phase (see <see cref="ClientRateLimiter"/>),
    /// so the fleet's arrivals in a second are random, spread by about √mean: such a share keeps three of those spare.
    /// </summary>
    public static double PerInstance(double quota, int instances, double burstSeconds, string parameter)
    {
        if (double.IsNaN(quota) || double.IsInfinity(quota) || quota <= 0)
        {
            throw new ArgumentOutOfRangeException(parameter, quota, "A quota must be a positive number of requests per second.");
        }

        var share = quota / (instances * (1 + burstSeconds));
        if (share * burstSeconds >= 1 - 1e-9)
        {
            return share;
        }

        var root = (-3 + Math.Sqrt(9 + (4 * quota))) / 2;
        return Math.Min(share, root * root / instances);
    }
}
