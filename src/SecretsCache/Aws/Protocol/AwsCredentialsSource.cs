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
internal sealed class AwsCredentialsSource
{
    private readonly AWSCredentials? _configured;
    private readonly string? _profile;
    private readonly string? _profilesLocation;
    private readonly Func<ValueTask<AWSCredentials>> _defaultChain;
    private readonly Func<string, string?> _environment;
    private AWSCredentials? _resolved;

    /// <summary><paramref name="defaultChain"/> resolves the default chain (tests count resolutions); AWSSDK.Core's when <see langword="null"/>.</summary>
    public AwsCredentialsSource(
        AWSCredentials? configured,
        string? profile = null,
        string? profilesLocation = null,
        Func<ValueTask<AWSCredentials>>? defaultChain = null,
        Func<string, string?>? environment = null)
    {
        _environment = environment ?? Environment.GetEnvironmentVariable;
        _configured = configured;
        _profile = profile;
        _profilesLocation = profilesLocation;
        _defaultChain = defaultChain ?? (static async () => await DefaultAWSCredentialsIdentityResolver.GetCredentialsAsync(null).ConfigureAwait(false));
        _resolved = configured;
    }

    public async ValueTask<ImmutableCredentials> GetAsync()
    {
        try
        {
            var source = Volatile.Read(ref _resolved);
            if (source is null)
            {
                source = _profile is not null
                    ? AwsProfile.Credentials(_profile, _profilesLocation)
                    : FromEnvironment(_environment) ?? await _defaultChain().ConfigureAwait(false);
                Volatile.Write(ref _resolved, source);
            }

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

    /// <summary>
    /// After a snapshot restore: the next request resolves credentials again. Credentials from the chain or a profile are
    /// looked up again, and refreshing credentials (the chain's container or web-identity ones, or configured ones such as an
    /// assume-role) drop what they hold, so they fetch new ones rather than use those of the environment the snapshot was
    /// taken in. Static configured credentials have nothing to resolve.
    /// </summary>
    public void ResolveAgain()
    {
        var held = Interlocked.Exchange(ref _resolved, _configured);
        (held as RefreshingAWSCredentials)?.ClearCredentials();
        if (!ReferenceEquals(held, _configured))
        {
            (_configured as RefreshingAWSCredentials)?.ClearCredentials();
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
