using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using SecretsCache.Aws.Identity;

namespace SecretsCache.Aws.Protocol;

/// <summary>
/// Credentials from <see cref="AwsOptions.Credentials"/> or AWSSDK.Core's default chain (environment, profile, SSO, web identity,
/// container, instance metadata). AWSSDK.Core's refreshing credentials renew themselves before they expire.
/// </summary>
/// <remarks>
/// The chain's first step is the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, with AWS_SESSION_TOKEN when set),
/// which is what Lambda gives a function. When both are set and no profile is asked for, the credentials the chain would
/// return first are made here, the same AWSSDK.Core types, without building the chain and its providers: that build is a
/// large part of a cold start's first read (docs/benchmarks.md). A chain replaced through
/// <see cref="AWSConfigs.AWSCredentialsGenerators"/> is always asked.
/// </remarks>
internal sealed class AwsCredentialsSource(AWSCredentials? configured, string? profile = null, string? profilesLocation = null, Func<string, string?>? environment = null)
{
    private AWSCredentials? _resolved = configured;

    public async ValueTask<ImmutableCredentials> GetAsync()
    {
        try
        {
            var source = _resolved ??= profile is not null
                ? AwsProfile.Credentials(profile, profilesLocation)
                : FromEnvironment(environment ?? Environment.GetEnvironmentVariable)
                    ?? await DefaultAWSCredentialsIdentityResolver.GetCredentialsAsync(null).ConfigureAwait(false);
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

    /// <summary>The chain's first answer when the environment holds keys: session credentials with a token, else basic ones.</summary>
    internal static AWSCredentials? FromEnvironment(Func<string, string?> environment)
    {
        var key = environment("AWS_ACCESS_KEY_ID");
        var secret = environment("AWS_SECRET_ACCESS_KEY");
        if (string.IsNullOrWhiteSpace(key) || string.IsNullOrWhiteSpace(secret) || AWSConfigs.AWSCredentialsGenerators is not null)
        {
            return null;
        }

        var token = environment("AWS_SESSION_TOKEN");
        return string.IsNullOrEmpty(token) ? new BasicAWSCredentials(key, secret) : new SessionAWSCredentials(key, secret, token);
    }
}
