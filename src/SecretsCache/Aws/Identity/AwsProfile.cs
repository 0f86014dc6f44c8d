using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;

namespace SecretsCache.Aws.Identity;

/// <summary>A named profile of the shared AWS config and credentials files, read by AWSSDK.Core (SSO, assume-role and process profiles included).</summary>
internal static class AwsProfile
{
    /// <exception cref="SecretsConfigurationException">The profile does not exist or holds no usable credentials.</exception>
    public static AWSCredentials Credentials(string profile, string? profilesLocation)
    {
        var chain = new CredentialProfileStoreChain(profilesLocation);
        if (chain.TryGetAWSCredentials(profile, out var credentials))
        {
            return credentials;
        }

        throw new SecretsConfigurationException(
            $"The AWS profile '{profile}' was not found{Where(profilesLocation)}, or has no credentials (SecretsCacheOptions.Aws.Profile, or \"AWS\": {{ \"Profile\" }} in configuration).");
    }

    public static string? Region(string profile, string? profilesLocation) =>
        new CredentialProfileStoreChain(profilesLocation).TryGetProfile(profile, out var found) ? found.Region?.SystemName : null;

    private static string Where(string? profilesLocation) => profilesLocation is null ? " in the shared AWS config and credentials files" : $" in '{profilesLocation}'";
}
