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

        if (!IsRegionName(region))
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

    // Lower-case ASCII letters, digits and hyphens, as a DNS label: the partitions' patterns use \w and \d, which match any
    // Unicode letter or digit, so they are applied only after this.
    private static bool IsRegionName(string region)
    {
        if (region.Length is < 4 or > 32 || region[0] == '-' || region[^1] == '-' || !region.Contains('-', StringComparison.Ordinal))
        {
            return false;
        }

        return region.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');
    }
}
