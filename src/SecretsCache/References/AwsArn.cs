namespace SecretsCache.References;

/// <summary>The parts of an ARN this library routes on: <c>arn:partition:service:region:account:resource</c>.</summary>
internal sealed record AwsArn(string Partition, string Service, string Region, string AccountId, string Resource)
{
    private static readonly string[] KnownPartitions = ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"];

    public static AwsArn? TryParse(string text, out string? error)
    {
        var parts = text.Split(':', 6);
        if (parts.Length < 6 || parts[0] != "arn")
        {
            error = "A malformed ARN: expected 'arn:partition:service:region:account-id:resource'.";
            return null;
        }

        if (Array.IndexOf(KnownPartitions, parts[1]) < 0)
        {
            error = $"A malformed ARN: unknown partition '{parts[1]}'.";
            return null;
        }

        if (!IsRegion(parts[3]))
        {
            error = $"A malformed ARN: '{parts[3]}' is not a region (expected something like 'us-east-1').";
            return null;
        }

        if (parts[4].Length != 12 || !parts[4].All(char.IsAsciiDigit))
        {
            error = "A malformed ARN: the account id must be 12 digits.";
            return null;
        }

        error = null;
        return new AwsArn(parts[1], parts[2], parts[3], parts[4], parts[5]);
    }

    private static bool IsRegion(string region)
    {
        // Region names are lower-case letters, digits and hyphens: "us-east-1", "cn-north-1", "us-gov-west-1".
        if (region.Length is < 4 or > 32 || region[0] == '-' || region[^1] == '-' || !region.Contains('-', StringComparison.Ordinal))
        {
            return false;
        }

        return region.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');
    }
}
