using SecretsCache.IntegrationTests.Provider.Support;

namespace SecretsCache.IntegrationTests.Provider;

/// <summary>Malformed references and paths fail with <see cref="ArgumentException"/> before anything is sent.</summary>
public sealed class BadInputTests(AwsFixture fixture) : ProviderTestBase(fixture), IClassFixture<AwsFixture>
{
    public static TheoryData<string> MalformedReferences => new()
    {
        "",
        "   ",
        " app/db",
        "app/db ",
        "app/db\n",
        "app db",
        "app/db#1",
        "app/db?",
        "app/db?stage=",
        "app/db?color=red",
        "app/db?versionId=too-short",
        "app/db?stage=AWSCURRENT&stage=AWSPREVIOUS",
        "app/db?stage=AWSPREVIOUS&versionId=01234567-89ab-cdef-0123-456789abcdef",
        "sm:",
        "ssm:",
        "ssm:relative/name",
        "ssm:/app//key",
        "ssm:/app/key:0",
        "ssm:/app/key:",
        "ssm:/app/key:awslabel",
        "ssm:/app/key?stage=AWSPREVIOUS",
        "ssm:/app/k%ey",
        "/aws/reference/secretsmanager/",
        "arn:aws:s3:::bucket/key",
        "arn:aws:sns:us-east-1:123456789012:topic",
        "arn:aws:secretsmanager:us-east-1:1234:secret:app/db",
        "arn:aws:secretsmanager:us-east-1:123456789012:parameter/app",
        "arn:nope:secretsmanager:us-east-1:123456789012:secret:app/db",
        new string('a', 3000),
        "SSM:/app/key",
        "ssn:/app/key",
        "arn:aws:secretsmanager:eu-west1:123456789012:secret:app/db",
        "arn:aws:ssm:eu-west1:123456789012:parameter/app/key",
        "arn:aws:secretsmanager:cn-north-1:123456789012:secret:app/db",
        "ssm:/" + new string('a', 2047) + ":3",
        "/aws/reference/secretsmanager/" + new string('a', 513),
        "/aws/reference/secretsmanager/arn:aws:secretsmanager:us-east-1:123456789012:secret:" + new string('a', 2265),
    };

    [Theory]
    [MemberData(nameof(MalformedReferences))]
    public async Task Malformed_references_throw_ArgumentException_before_any_request(string reference)
    {
        var provider = CreateProvider();

        var get = await Assert.ThrowsAsync<ArgumentException>(() => provider.GetAsync(reference).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => provider.RefreshAsync(reference).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => provider.GetStringAsync(reference).AsTask());
        Assert.Throws<ArgumentException>(() => provider.Invalidate(reference));
        await Assert.ThrowsAsync<ArgumentException>(() => provider.ExecuteAsync(reference, (_, _) => ValueTask.FromResult(0)).AsTask());

        Assert.StartsWith("Invalid secret reference '", get.Message, StringComparison.Ordinal);
        Assert.Equal(0, provider.Count);
        Assert.Equal(0, Aws.Requests.Total);
    }

    [Fact]
    public async Task A_malformed_reference_fails_the_whole_warm_up_before_any_request()
    {
        var good = SecretName("good");
        Aws.CreateSecret(good, "never-fetched");
        var provider = CreateProvider();

        await Assert.ThrowsAsync<ArgumentException>(() => provider.WarmUpAsync([good, "ssm:/fine/param", "bad name"]));

        Assert.Equal(0, Aws.Requests.Total);
    }

    [Theory]
    [InlineData("")]
    [InlineData("app/prod")]
    [InlineData("ssm:app/prod")]
    [InlineData("/app//prod")]
    [InlineData("/app/pr od/")]
    [InlineData("/aws/reference/secretsmanager/")]
    [InlineData("/aws/reference/secretsmanager")]
    public async Task Malformed_paths_throw_ArgumentException_before_any_request(string path)
    {
        var provider = CreateProvider();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => provider.GetPathAsync(path));

        Assert.StartsWith($"Invalid parameter path '{path}': ", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, Aws.Requests.Total);
    }

    [Fact]
    public async Task Null_arguments_throw_ArgumentNullException()
    {
        var provider = CreateProvider();

        await Assert.ThrowsAsync<ArgumentNullException>(() => provider.GetAsync(null!).AsTask());
        await Assert.ThrowsAsync<ArgumentNullException>(() => provider.GetPathAsync(null!));
        await Assert.ThrowsAsync<ArgumentNullException>(() => provider.WarmUpAsync(null!));
        Assert.Equal(0, Aws.Requests.Total);
    }

    [Fact]
    public void A_ttl_for_a_malformed_reference_is_refused_when_the_provider_is_built()
    {
        var options = Options(o => o.TtlByReference["not a reference"] = TimeSpan.FromMinutes(1));

        var error = Assert.Throws<SecretsConfigurationException>(() => Own(new SecretProvider(options)));

        Assert.Contains("TtlByReference", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, Aws.Requests.Total);
    }
}
