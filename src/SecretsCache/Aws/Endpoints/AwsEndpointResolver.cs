namespace SecretsCache.Aws.Endpoints;

/// <summary>
/// Chooses where a service call goes. Without a custom endpoint it gives exactly what the service's
/// <c>endpoint-rule-set-1.json</c> gives; the tests evaluate those files and compare every known region.
/// </summary>
internal static class AwsEndpointResolver
{
    /// <summary>Turns FIPS on when <c>true</c>.</summary>
    public const string FipsVariable = "AWS_USE_FIPS_ENDPOINT";

    /// <summary>Turns dual-stack on when <c>true</c>.</summary>
    public const string DualStackVariable = "AWS_USE_DUALSTACK_ENDPOINT";

    /// <summary>Resolves the endpoint, reading the environment only through <paramref name="getEnvironmentVariable"/>.</summary>
    /// <exception cref="SecretsConfigurationException">The region, a custom endpoint or the FIPS / dual-stack choice cannot be used.</exception>
    public static ResolvedEndpoint Resolve(AwsService service, string region, EndpointSettings settings, Func<string, string?> getEnvironmentVariable) =>
        Resolve(service, region, settings, getEnvironmentVariable, PartitionInfo.FromAwsSdk);

    /// <summary>
    /// Resolves against a given partition lookup. Tests use it to reach the rule sets' "partition does not support"
    /// branches, which no partition in AWSSDK.Core takes today.
    /// </summary>
    internal static ResolvedEndpoint Resolve(
        AwsService service,
        string region,
        EndpointSettings settings,
        Func<string, string?> getEnvironmentVariable,
        Func<string, PartitionInfo?> partitionFor)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(getEnvironmentVariable);
        ArgumentNullException.ThrowIfNull(partitionFor);

        // Checked even for a custom endpoint: the region is still the SigV4 signing region.
        CheckRegion(region);
        var useFips = settings.UseFips || EnvironmentFlag.IsOn(getEnvironmentVariable, FipsVariable);
        var useDualStack = settings.UseDualStack || EnvironmentFlag.IsOn(getEnvironmentVariable, DualStackVariable);

        Uri url;
        if (CustomEndpoint.Find(service, settings.ServiceUrl, getEnvironmentVariable) is { } custom)
        {
            if (useFips)
            {
                throw new SecretsConfigurationException(
                    $"Invalid Configuration: FIPS and custom endpoint are not supported (the endpoint comes from {custom.Source}; FIPS is on through {(settings.UseFips ? "SecretsCacheOptions.Aws.UseFips" : FipsVariable)}).");
            }

            if (useDualStack)
            {
                throw new SecretsConfigurationException(
                    $"Invalid Configuration: Dualstack and custom endpoint are not supported (the endpoint comes from {custom.Source}; dual-stack is on through {(settings.UseDualStack ? "SecretsCacheOptions.Aws.UseDualStack" : DualStackVariable)}).");
            }

            url = custom.Url;
        }
        else
        {
            var partition = partitionFor(region)
                ?? throw new SecretsConfigurationException($"Region '{region}' is in no AWS partition known to AWSSDK.Core.");
            url = new Uri($"https://{Host(service, region, partition, useFips, useDualStack)}/");
        }

        return new ResolvedEndpoint(url, region, service.SigningName());
    }

    // The two rule sets, branch for branch. Their special cases name the partition and hard-code the suffix.
    private static string Host(AwsService service, string region, PartitionInfo partition, bool useFips, bool useDualStack)
    {
        var prefix = service.SigningName();
        var secretsManager = service == AwsService.SecretsManager;
        if (useFips && useDualStack)
        {
            if (!partition.SupportsFips || !partition.SupportsDualStack)
            {
                throw Unsupported("FIPS and DualStack are enabled, but this partition does not support one or both", region, partition);
            }

            return secretsManager && partition.Name is ("aws" or "aws-us-gov")
                ? $"secretsmanager-fips.{region}.amazonaws.com"
                : $"{prefix}-fips.{region}.{partition.DualStackDnsSuffix}";
        }

        if (useFips)
        {
            if (!partition.SupportsFips)
            {
                throw Unsupported("FIPS is enabled but this partition does not support FIPS", region, partition);
            }

            return !secretsManager && partition.Name == "aws-us-gov"
                ? $"ssm.{region}.amazonaws.com"
                : $"{prefix}-fips.{region}.{partition.DnsSuffix}";
        }

        if (useDualStack)
        {
            if (!partition.SupportsDualStack)
            {
                throw Unsupported("DualStack is enabled but this partition does not support DualStack", region, partition);
            }

            return (secretsManager, partition.Name) switch
            {
                (true, "aws" or "aws-us-gov") => $"secretsmanager.{region}.amazonaws.com",
                (true, "aws-cn") => $"secretsmanager.{region}.amazonaws.com.cn",
                _ => $"{prefix}.{region}.{partition.DualStackDnsSuffix}",
            };
        }

        return $"{prefix}.{region}.{partition.DnsSuffix}";
    }

    // Stricter than the rule sets, which put any string into the host: a region must be one lowercase DNS label.
    private static void CheckRegion(string? region)
    {
        if (string.IsNullOrWhiteSpace(region))
        {
            throw new SecretsConfigurationException(Identity.RegionResolver.NoRegionMessage);
        }

        if (region.Length > 63)
        {
            throw new SecretsConfigurationException("The region is malformed: it is longer than a DNS label (63 characters).");
        }

        var wellFormed = region[0] != '-' && region[^1] != '-';
        foreach (var c in region)
        {
            wellFormed &= char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-';
        }

        if (!wellFormed)
        {
            throw new SecretsConfigurationException(
                $"The region '{region}' is malformed: expected lowercase letters, digits and hyphens, such as 'us-east-1'.");
        }
    }

    private static SecretsConfigurationException Unsupported(string ruleSetMessage, string region, PartitionInfo partition) =>
        new($"{ruleSetMessage} (region '{region}' is in partition '{partition.Name}').");
}
