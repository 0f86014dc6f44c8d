using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using SecretsCache.Aws.Identity;

namespace SecretsCache.Aws.Protocol;

/// <summary>
/// Credentials from <see cref="AwsOptions.Credentials"/> or AWSSDK.Core's default chain (environment, profile, SSO, web identity,
/// container, instance metadata). AWSSDK.Core's refreshing credentials renew themselves before they expire.
/// </summary>
internal sealed class AwsCredentialsSource(AWSCredentials? configured, string? profile = null, string? profilesLocation = null)
{
    private AWSCredentials? _resolved = configured;

    public async ValueTask<ImmutableCredentials> GetAsync()
    {
        try
        {
            var source = _resolved ??= profile is not null
                ? AwsProfile.Credentials(profile, profilesLocation)
                : await DefaultAWSCredentialsIdentityResolver.GetCredentialsAsync(null).ConfigureAwait(false);
            var credentials = await source.GetCredentialsAsync().ConfigureAwait(false);
            if (credentials is null || string.IsNullOrEmpty(credentials.AccessKey) || string.IsNullOrEmpty(credentials.SecretKey))
            {
                throw new SecretsConfigurationException("The AWS credentials resolved are empty. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, or SecretsCacheOptions.Aws.Credentials.");
            }

            return credentials;
        }
        catch (AmazonClientException ex)
        {
            // AWSSDK.Core's message lists which providers were tried and why each failed; it carries no key material.
            throw new SecretsConfigurationException(
                "No AWS credentials could be resolved. Set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, a web identity or container role, or SecretsCacheOptions.Aws.Credentials. " + ex.Message,
                ex);
        }
    }
}
