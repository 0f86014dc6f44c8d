using Amazon.Runtime;

namespace SecretsCache.Testing;

/// <summary>Points a provider at an <see cref="AwsEmulator"/>.</summary>
public static class EmulatorOptionsExtensions
{
    /// <summary>Sets the endpoint, region and credentials of <paramref name="emulator"/>; everything else keeps its production
    /// default. The region is <paramref name="region"/> when given (one of <see cref="AwsEmulator.Regions"/>), else the
    /// emulator's default <see cref="AwsEmulator.Region"/>.</summary>
    /// <exception cref="ArgumentException">The emulator does not serve <paramref name="region"/>.</exception>
    public static SecretsCacheOptions UseEmulator(this SecretsCacheOptions options, AwsEmulator emulator, string? region = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(emulator);
        if (region is not null && !emulator.Regions.Contains(region, StringComparer.Ordinal))
        {
            throw new ArgumentException($"The emulator does not serve the region '{region}': list it in AwsEmulatorOptions.AdditionalRegions.", nameof(region));
        }

        options.Aws.ServiceUrl = emulator.Endpoint.ToString();
        options.Aws.Region = region ?? emulator.Region;
        options.Aws.Credentials = new BasicAWSCredentials(emulator.AccessKeyId, emulator.SecretAccessKey);
        return options;
    }
}
