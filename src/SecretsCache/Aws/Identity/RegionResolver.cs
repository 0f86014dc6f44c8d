using Amazon.Runtime;

namespace SecretsCache.Aws.Identity;

/// <summary>
/// The default region, in the order AWS SDKs use: <see cref="AwsOptions.Region"/>, <c>AWS_REGION</c> / <c>AWS_DEFAULT_REGION</c>,
/// the named profile's region (<see cref="AwsOptions.Profile"/>), then AWSSDK.Core's fallback chain (the default profile,
/// instance metadata).
/// </summary>
internal static class RegionResolver
{
    /// <summary>The one message for a missing region, wherever it is found missing: start-up validation, the first read, endpoint resolution.</summary>
    public const string NoRegionMessage =
        "No AWS region: set SecretsCacheOptions.Aws.Region (or \"AWS\": { \"Region\" } in configuration), AWS_REGION, or a region in the AWS profile, or use ARNs (their region is used).";

    public static string? TryResolve(AwsOptions options, Func<string, string?> environment) =>
        TryResolve(options.Region, options.Profile, options.ProfilesLocation, environment);

    public static string? TryResolve(string? configured, string? profile, string? profilesLocation, Func<string, string?> environment)
    {
        var region = Blank(configured) ?? Blank(environment("AWS_REGION")) ?? Blank(environment("AWS_DEFAULT_REGION"));
        if (region is null && profile is not null)
        {
            region = AwsProfile.Region(profile, profilesLocation);
        }

        if (region is null)
        {
            try
            {
                region = Blank(FallbackRegionFactory.GetRegionEndpoint()?.SystemName);
            }
            catch (AmazonClientException)
            {
                region = null;
            }
        }

        return region;
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
