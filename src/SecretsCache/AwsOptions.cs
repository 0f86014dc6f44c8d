using System.ComponentModel.DataAnnotations;
using Amazon.Runtime;
using static SecretsCache.Composition.OptionsValidation;

namespace SecretsCache;

/// <summary>How the provider reaches AWS: region, credentials, endpoints and refresh behaviour.</summary>
[System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026:RequiresUnreferencedCode", Justification = Composition.OptionsValidation.TimeSpanRangeIsNeverConstructed)]
public sealed class AwsOptions
{
    /// <summary>The default region (for example <c>eu-west-1</c>). When unset: <c>AWS_REGION</c>, then the profile, then instance metadata. An ARN's own region always wins.</summary>
    public string? Region { get; set; }

    /// <summary>Explicit credentials. When unset, AWSSDK.Core's default chain is used: environment, profile, SSO, web identity, container, instance metadata.</summary>
    public AWSCredentials? Credentials { get; set; }

    /// <summary>
    /// A named profile of the shared AWS config and credentials files, for credentials (when <see cref="Credentials"/> is unset)
    /// and the region (when <see cref="Region"/> and <c>AWS_REGION</c> are unset). When unset, <c>AWS_PROFILE</c> or
    /// <c>default</c>, as in every AWS SDK. Also read from the <c>AWS:Profile</c> configuration key by SecretsCache.Hosting.
    /// </summary>
    public string? Profile { get; set; }

    /// <summary>The shared credentials file that holds <see cref="Profile"/>, when not in the default place (also <c>AWS:ProfilesLocation</c>).</summary>
    public string? ProfilesLocation { get; set; }

    /// <summary>
    /// Regions to read a Secrets Manager secret from, in order, when its own region fails with an outage (5xx, a timeout, a
    /// connection failure, or its circuit breaker open): the replicas ReplicateSecretToRegions made. A name is sent as it
    /// is; an ARN with its region rewritten. Not-found, access-denied, validation and throttling errors never fail over.
    /// Parameter Store has no replicas, so parameters never fail over. Each region must be of the primary's partition,
    /// listed once, and not the primary itself. Default empty: no failover.
    /// </summary>
    public IList<string> FailoverRegions { get; } = [];

    /// <summary>An endpoint for both services (for example a loopback emulator). Must be <c>https://</c>, or <c>http://</c> on a loopback address only.</summary>
    public string? ServiceUrl { get; set; }

    /// <summary>An endpoint for Secrets Manager only (for example a VPC endpoint); wins over <see cref="ServiceUrl"/>.</summary>
    public string? SecretsManagerServiceUrl { get; set; }

    /// <summary>An endpoint for Parameter Store only; wins over <see cref="ServiceUrl"/>.</summary>
    public string? ParameterStoreServiceUrl { get; set; }

    /// <summary>Use FIPS endpoints (also <c>AWS_USE_FIPS_ENDPOINT=true</c>).</summary>
    public bool UseFips { get; set; }

    /// <summary>Use dual-stack (IPv6) endpoints (also <c>AWS_USE_DUALSTACK_ENDPOINT=true</c>).</summary>
    public bool UseDualStack { get; set; }

    /// <summary>
    /// When a cached Secrets Manager value expires, call DescribeSecret first and GetSecretValue only if the version changed.
    /// Cheaper for large secrets; needs <c>secretsmanager:DescribeSecret</c>. Default off.
    /// </summary>
    public bool VersionAwareRefresh { get; set; }

    /// <summary>The timeout of one HTTP attempt. Default 10 seconds.</summary>
    [Range(typeof(TimeSpan), Zero, MaxTimeSpan, MinimumIsExclusive = true, ParseLimitsInInvariantCulture = true)]
    public TimeSpan AttemptTimeout { get; set; } = Defaults.AttemptTimeout;

    /// <summary>
    /// The largest answer read from AWS, in bytes; a longer one fails with <see cref="SecretServiceUnavailableException"/>
    /// (error code <c>ResponseTooLarge</c>) before more is read, and is not retried. Default 9 MiB, above the largest answer
    /// a read can legitimately get (a BatchGetSecretValue page of 20 secrets of 64 KiB, fully escaped).
    /// </summary>
    [Range(1, int.MaxValue)]
    public int MaxResponseBytes { get; set; } = Defaults.MaxResponseBytes;
}
