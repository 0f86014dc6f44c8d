using Amazon.Runtime;

namespace SecretsCache.Testing;

/// <summary>Points a provider at an <see cref="AwsEmulator"/>.</summary>
public static class EmulatorOptionsExtensions
{
    /// <summary>Sets the endpoint, region and credentials of <paramref name="emulator"/>; everything else keeps its production default.</summary>
    public static SecretsCacheOptions UseEmulator(this SecretsCacheOptions options, AwsEmulator emulator)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(emulator);
        options.Aws.ServiceUrl = emulator.Endpoint.ToString();
        options.Aws.Region = emulator.Region;
        options.Aws.Credentials = new BasicAWSCredentials(emulator.AccessKeyId, emulator.SecretAccessKey);
        return options;
    }
}
