using Microsoft.Extensions.Logging.Testing;
using SecretsCache.IntegrationTests.Provider.Support;

namespace SecretsCache.IntegrationTests.Provider;

/// <summary>Secrets Manager secrets read through Parameter Store's <c>/aws/reference/secretsmanager/</c> passthrough.</summary>
public sealed class PassthroughTests(AwsFixture fixture) : ProviderTestBase(fixture), IClassFixture<AwsFixture>
{
    private const string Prefix = "/aws/reference/secretsmanager/";
    private const string GetParameter = "AmazonSSM.GetParameter";

    [Fact]
    public async Task Bare_and_ssm_prefixed_passthrough_read_AWSCURRENT_with_version_metadata_from_SourceResult()
    {
        var name = SecretName("pt");
        var arn = Aws.CreateSecret(name, "first");
        var currentId = Aws.PutSecretValue(name, "second");
        var provider = CreateProvider();

        var bare = await provider.GetAsync(Prefix + name);
        var prefixed = await provider.GetAsync("ssm:" + Prefix + name);
        var explicitCurrent = await provider.GetAsync($"{Prefix}{name}:AWSCURRENT");

        Assert.Equal("second", bare.GetString());
        Assert.Equal(currentId, bare.VersionId);
        Assert.Equal(["AWSCURRENT"], bare.VersionStages);
        Assert.Equal(arn, bare.Arn);
        Assert.Null(bare.ParameterVersion);
        Assert.Equal(currentId, bare.Version);

        // All three spellings are one cache entry.
        Assert.Same(bare, prefixed);
        Assert.Same(bare, explicitCurrent);
        Assert.Equal(1, Aws.Requests.Count(GetParameter));
        Assert.Equal(0, Aws.Requests.Count("secretsmanager.GetSecretValue"));
    }

    [Fact]
    public async Task Passthrough_by_secret_ARN_reads_the_secret_with_and_without_a_stage()
    {
        var name = SecretName("pt-arn");
        var arn = Aws.CreateSecret(name, "old");
        Aws.PutSecretValue(name, "new");
        var provider = CreateProvider();

        var current = await provider.GetAsync(Prefix + arn);
        var previous = await provider.GetAsync($"{Prefix}{arn}:AWSPREVIOUS");

        Assert.Equal("new", current.GetString());
        Assert.Equal("old", previous.GetString());
        Assert.Equal(arn, current.Arn);
        Assert.Equal(2, Aws.Requests.Count(GetParameter));
    }

    [Fact]
    public async Task Passthrough_with_AWSPREVIOUS_reads_the_previous_version()
    {
        var name = SecretName("pt-prev");
        Aws.CreateSecret(name, "old");
        Aws.PutSecretValue(name, "new");
        var provider = CreateProvider();

        var previous = await provider.GetAsync($"{Prefix}{name}:AWSPREVIOUS");
        var previousPrefixed = await provider.GetAsync($"ssm:{Prefix}{name}:AWSPREVIOUS");
        var viaSecretsManager = await provider.GetAsync($"sm:{name}?stage=AWSPREVIOUS");

        Assert.Equal("old", previous.GetString());
        Assert.Equal(["AWSPREVIOUS"], previous.VersionStages);
        Assert.Equal(viaSecretsManager.VersionId, previous.VersionId);
        Assert.Same(previous, previousPrefixed);
        Assert.Equal(1, Aws.Requests.Count(GetParameter));
    }

    [Fact]
    public async Task Passthrough_by_version_id_reads_that_version()
    {
        var name = SecretName("pt-id");
        Aws.CreateSecret(name, "v1");
        var firstId = (await CreateProvider().GetAsync(name)).VersionId!;
        var secondId = Aws.PutSecretValue(name, "v2");
        var provider = CreateProvider();

        var first = await provider.GetAsync($"{Prefix}{name}:{firstId}");
        var second = await provider.GetAsync($"ssm:{Prefix}{name}:{secondId}");

        Assert.Equal(("v1", firstId), (first.GetString(), first.VersionId));
        Assert.Equal(["AWSPREVIOUS"], first.VersionStages);
        Assert.Equal(("v2", secondId), (second.GetString(), second.VersionId));
        Assert.Equal(["AWSCURRENT"], second.VersionStages);
        Assert.Equal(2, Aws.Requests.Count(GetParameter));
    }

    [Fact]
    public async Task Passthrough_errors_map_to_the_typed_exceptions_without_values()
    {
        var missing = SecretName("pt-missing");
        var denied = SecretName("pt-denied");
        Aws.CreateSecret(denied, "denied-value");
        Aws.DenyAccess(denied);
        var noPrevious = SecretName("pt-noprev");
        Aws.CreateSecret(noPrevious, "only-value");
        var logs = new FakeLoggerProvider();
        var provider = CreateProvider(logs: logs);

        var notFound = await Assert.ThrowsAsync<SecretNotFoundException>(() => provider.GetAsync(Prefix + missing).AsTask());
        var accessDenied = await Assert.ThrowsAsync<SecretAccessDeniedException>(() => provider.GetAsync(Prefix + denied).AsTask());
        var noVersion = await Assert.ThrowsAsync<SecretNotFoundException>(() => provider.GetAsync($"{Prefix}{noPrevious}:AWSPREVIOUS").AsTask());

        Assert.Equal("ParameterNotFound", notFound.ErrorCode);
        Assert.Equal("ParameterVersionNotFound", noVersion.ErrorCode);
        Assert.Contains("lacks secretsmanager:GetSecretValue", accessDenied.Message, StringComparison.Ordinal); // the action AWS named
        Assert.Equal(3, Aws.Requests.Count(GetParameter));
        NoValueLeaks.InException(accessDenied, "denied-value");
        NoValueLeaks.InException(noVersion, "only-value");
        NoValueLeaks.InLogs(logs, "denied-value", "only-value");
    }
}
