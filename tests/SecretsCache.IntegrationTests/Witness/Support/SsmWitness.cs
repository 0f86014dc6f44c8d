using Amazon.Runtime;
using Amazon.SimpleSystemsManagement;
using SecretsCache.Testing;

namespace SecretsCache.IntegrationTests.Witness.Support;

/// <summary>
/// AWS's own .NET Systems Manager client, pointed at an emulator: its loopback endpoint, its region for signing and its
/// credentials, so nothing can reach real AWS (no ambient credentials, no region lookup, no instance metadata).
/// </summary>
internal static class SsmWitness
{
    /// <param name="retries">The SDK's retries; 0 where a test asserts on a single attempt.</param>
    public static AmazonSimpleSystemsManagementClient Create(AwsEmulator emulator, int retries = 2)
    {
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
        Assert.Equal("127.0.0.1", emulator.Endpoint.Host);
        var config = new AmazonSimpleSystemsManagementConfig
        {
            ServiceURL = emulator.Endpoint.ToString(),
            AuthenticationRegion = emulator.Region,
            MaxErrorRetry = retries,
            Timeout = TimeSpan.FromSeconds(30),
        };
        return new AmazonSimpleSystemsManagementClient(new BasicAWSCredentials(emulator.AccessKeyId, emulator.SecretAccessKey), config);
    }
}
