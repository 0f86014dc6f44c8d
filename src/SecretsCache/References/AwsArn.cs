using SecretsCache.Aws.Endpoints;

namespace SecretsCache.References;

/// <summary>The parts of an ARN this library routes on: <c>arn:partition:service:region:account:resource</c>.</summary>
internal sealed record AwsArn(string Partition, string Service, string Region, string AccountId, string Resource)
{
    public static AwsArn? TryParse(string text, out string? error)
    {
        var parts = text.Split(':', 6);
        if (parts.Length < 6 || parts[0] != "arn")
        {
            error = "A malformed ARN: expected 'arn:partition:service:region:account-id:resource'.";
            return null;
        }

        var (partition, region) = (parts[1], parts[3]);
        if (!PartitionRegions.IsPartition(partition))
        {
            error = $"A malformed ARN: unknown partition {ReferenceQuote.Quote(partition)}; the partitions are {string.Join(", ", PartitionRegions.Names)}.";
            return null;
        }

        if (!PartitionRegions.IsRegionName(region))
        {
            error = $"A malformed ARN: {ReferenceQuote.Quote(region)} is not a region (expected something like 'us-east-1').";
            return null;
        }

        // A region that no pattern matches (eu-west1) would otherwise pass and fail later, on DNS.
        if (!PartitionRegions.IsRegionOf(partition, region))
        {
            error = PartitionRegions.PartitionOf(region) is { } other
                ? $"A malformed ARN: '{region}' is a region of partition '{other}', not of '{partition}'."
                : $"A malformed ARN: '{region}' is not a region of partition '{partition}' (its regions look like '{PartitionRegions.ExampleRegion(partition)}').";
            return null;
        }

        if (parts[4].Length != 12 || !parts[4].All(char.IsAsciiDigit))
        {
            error = "A malformed ARN: the account id must be 12 digits.";
            return null;
        }

        error = null;
        return new AwsArn(partition, parts[2], region, parts[4], parts[5]);
    }

    /// <summary>
    /// The same ARN in <paramref name="region"/>: a replica keeps its primary's name and random suffix, so only the region
    /// field changes. <paramref name="arn"/> is an ARN <see cref="TryParse"/> accepted.
    /// </summary>
    public static string WithRegion(string arn, string region)
    {
        var parts = arn.Split(':', 6);
        parts[3] = region;
        return string.Join(':', parts);
    }
}
