using SecretsCache.Aws.Endpoints;

namespace SecretsCache.Resilience;

/// <summary>
/// Which errors send a Secrets Manager read to the next region of <see cref="AwsOptions.FailoverRegions"/>, and in which
/// order the regions are tried. An outage (the region failing) fails over; an answer (not found, access denied, a bad
/// request, throttling, a value that cannot be decrypted) does not, because a replica would give the same answer or the
/// error is the caller's.
/// </summary>
internal static class RegionFailover
{
    /// <summary>
    /// True for a region failing to answer: 5xx, an attempt timeout, a connection failure, its circuit breaker open, the
    /// retry budget spent, a malformed answer. An answer over <see cref="AwsOptions.MaxResponseBytes"/> is not one: a
    /// replica holds the same value, so it would be as large.
    /// </summary>
    public static bool IsOutage(Exception error) =>
        error is SecretServiceUnavailableException { ErrorCode: not RetryPipelineFactory.ResponseTooLarge };

    /// <summary>
    /// The regions to try after <paramref name="primary"/>, in order: the configured ones but the primary itself (an ARN may
    /// name a failover region) and those of another partition (an ARN of another partition has no replica there).
    /// </summary>
    public static IReadOnlyList<string> After(string primary, IReadOnlyList<string> failoverRegions)
    {
        if (failoverRegions.Count == 0)
        {
            return [];
        }

        var partition = PartitionRegions.PartitionOf(primary);
        return [.. failoverRegions.Where(r => !string.Equals(r, primary, StringComparison.Ordinal) && PartitionRegions.PartitionOf(r) == partition)];
    }

    /// <summary>What is wrong with <paramref name="failoverRegions"/> for a primary <paramref name="region"/> (null when it is resolved later).</summary>
    public static IEnumerable<string> Validate(string? region, IEnumerable<string?> failoverRegions)
    {
        var primaryPartition = region is not null && PartitionRegions.IsRegionName(region) ? PartitionRegions.PartitionOf(region) : null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? firstPartition = null;
        var index = 0;
        foreach (var failover in failoverRegions)
        {
            var at = $"Aws.FailoverRegions[{index++}]";
            if (string.IsNullOrWhiteSpace(failover))
            {
                yield return $"{at} is empty.";
                continue;
            }

            // A region name is not secret, but it is configuration text: it is quoted only once it is known to be a region name.
            if (!PartitionRegions.IsRegionName(failover) || PartitionRegions.PartitionOf(failover) is not { } partition)
            {
                yield return $"{at} is not a region name (expected something like 'eu-west-1').";
                continue;
            }

            if (!seen.Add(failover))
            {
                yield return $"{at}: '{failover}' is listed more than once.";
                continue;
            }

            if (string.Equals(failover, region, StringComparison.Ordinal))
            {
                yield return $"{at}: '{failover}' is the primary region (Aws.Region); list only the other regions the secrets are replicated to.";
                continue;
            }

            if (primaryPartition is not null && partition != primaryPartition)
            {
                yield return $"{at}: '{failover}' is in partition '{partition}', the primary region '{region}' in '{primaryPartition}'; a secret replicates only within its partition.";
                continue;
            }

            firstPartition ??= partition;
            if (partition != firstPartition)
            {
                yield return $"{at}: '{failover}' is in partition '{partition}', the regions before it in '{firstPartition}'; a secret replicates only within its partition.";
            }
        }
    }

    /// <summary>
    /// Checks a primary region resolved at run time (from <c>AWS_REGION</c> or a profile) against the failover regions that
    /// validation could not compare it with.
    /// </summary>
    /// <exception cref="SecretsConfigurationException">The resolved region is one of the failover regions, or of another partition.</exception>
    public static void ThrowIfConflicts(string resolvedPrimary, IReadOnlyList<string> failoverRegions)
    {
        var problems = Validate(resolvedPrimary, failoverRegions).ToList();
        if (problems.Count > 0)
        {
            throw new SecretsConfigurationException($"Invalid SecretsCache options for the resolved region '{resolvedPrimary}': {string.Join(" ", problems)}");
        }
    }
}
