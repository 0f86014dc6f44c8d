using Amazon.Runtime;
using SecretsCache.IntegrationTests.Provider.Support;
using SecretsCache.Testing;

namespace SecretsCache.IntegrationTests.Provider;

/// <summary>SigV4 as the emulator verifies it: credentials, session tokens, signing regions, clock-skew correction, endpoints.</summary>
public sealed class SigningAndCredentialsTests(AwsFixture fixture) : ProviderTestBase(fixture), IClassFixture<AwsFixture>
{
    private const string GetSecretValue = "secretsmanager.GetSecretValue";
    private const string GetParameter = "AmazonSSM.GetParameter";

    [Theory]
    [InlineData(20)]
    [InlineData(-20)]
    public async Task A_skewed_clock_is_corrected_from_the_Date_header_and_the_request_re_signed(int skewMinutes)
    {
        var first = SecretName("skew");
        var second = SecretName("skew");
        Aws.CreateSecret(first, "skew-1");
        Aws.CreateSecret(second, "skew-2");
        var parameter = ParameterRoot() + "skew";
        Aws.PutParameter(parameter, "skew-p", "String");
        Aws.Faults.ClockSkew = TimeSpan.FromMinutes(skewMinutes); // the emulator's clock runs ahead of (or behind) the provider's
        var provider = CreateProvider(o => o.Retry.MaxRetryAttempts = 0); // the correction is not a retry

        Assert.Equal("skew-1", await provider.GetStringAsync(first));

        var requests = Aws.Requests.Snapshot();
        Assert.Equal([EmulatorOutcome.AuthFailed, EmulatorOutcome.Ok], requests.Select(r => r.Outcome));
        Assert.Equal("InvalidSignatureException", requests[0].ErrorCode);
        Assert.Equal(1, Aws.Requests.Count(GetSecretValue));

        // The correction is kept: the next Secrets Manager request is signed right the first time.
        Assert.Equal("skew-2", await provider.GetStringAsync(second));
        Assert.Equal(3, Aws.Requests.Total);

        // Parameter Store keeps its own correction, learned the same way.
        Assert.Equal("skew-p", await provider.GetStringAsync("ssm:" + parameter));
        Assert.Equal(
            [EmulatorOutcome.AuthFailed, EmulatorOutcome.Ok, EmulatorOutcome.Ok, EmulatorOutcome.AuthFailed, EmulatorOutcome.Ok],
            Aws.Requests.Snapshot().Select(r => r.Outcome));
    }

    [Fact]
    public async Task Session_credentials_are_sent_and_signed_with_their_token()
    {
        var name = SecretName("session");
        Aws.CreateSecret(name, "with-session");
        Aws.AddCredentials("ASIAEMULATORSESSION1", "session-secret-key", "session-token-123");
        var provider = CreateProvider(o => o.Aws.Credentials = new SessionAWSCredentials("ASIAEMULATORSESSION1", "session-secret-key", "session-token-123"));

        Assert.Equal("with-session", await provider.GetStringAsync(name));
        Assert.Equal([EmulatorOutcome.Ok], Aws.Requests.Snapshot().Select(r => r.Outcome));
    }

    [Theory]
    [InlineData("AKIAUNKNOWNKEY000000", "unknown-secret-key", null)]
    [InlineData("ASIAEMULATORSESSION2", "session-secret-key", "wrong-token")]
    [InlineData("ASIAEMULATORSESSION2", "session-secret-key", null)]
    public async Task Unrecognised_credentials_are_access_denied_and_never_retried(string accessKey, string secretKey, string? token)
    {
        var name = SecretName("creds");
        Aws.CreateSecret(name, "unreadable");
        Aws.AddCredentials("ASIAEMULATORSESSION2", "session-secret-key", "right-token");
        var provider = CreateProvider(o => o.Aws.Credentials = token is null
            ? new BasicAWSCredentials(accessKey, secretKey)
            : new SessionAWSCredentials(accessKey, secretKey, token));

        var error = await Assert.ThrowsAsync<SecretAccessDeniedException>(() => provider.GetAsync(name).AsTask());

        Assert.Equal("UnrecognizedClientException", error.ErrorCode);
        Assert.Equal(1, Aws.Requests.Total);
        NoValueLeaks.InException(error, "unreadable", secretKey, token ?? "right-token");
    }

    [Fact]
    public async Task A_wrong_secret_key_fails_the_signature_and_is_never_retried()
    {
        var name = SecretName("badsig");
        Aws.CreateSecret(name, "unreadable");
        var provider = CreateProvider(o => o.Aws.Credentials = new BasicAWSCredentials(Aws.AccessKeyId, "not-the-secret-key"));

        var error = await Assert.ThrowsAsync<SecretAccessDeniedException>(() => provider.GetAsync(name).AsTask());

        Assert.Equal("InvalidSignatureException", error.ErrorCode);
        Assert.Equal(1, Aws.Requests.Total);
        NoValueLeaks.InException(error, "unreadable", "not-the-secret-key");
    }

    [Fact]
    public async Task Arns_are_signed_for_their_own_region_and_plain_names_for_the_configured_one()
    {
        await using var west = await AwsEmulator.StartAsync(new AwsEmulatorOptions { Region = "eu-west-1" });
        var name = SecretName("west");
        var secretArn = west.CreateSecret(name, "from-eu-west-1");
        var parameter = ParameterRoot() + "west";
        west.PutParameter(parameter, "param-from-eu-west-1", "String");
        var parameterArn = $"arn:aws:ssm:eu-west-1:{west.AccountId}:parameter{parameter}";

        // The provider's own region is the default emulator's (us-east-1), but every request goes to the eu-west-1 one.
        var options = Options(o => o.Aws.ServiceUrl = west.Endpoint.ToString());
        Assert.Equal("us-east-1", options.Aws.Region);
        var provider = CreateProvider(options);

        var secret = await provider.GetAsync(secretArn);
        var fromParameterArn = await provider.GetAsync(parameterArn);
        var byName = await Assert.ThrowsAsync<SecretAccessDeniedException>(() => provider.GetAsync(name).AsTask());

        Assert.Equal("from-eu-west-1", secret.GetString());
        Assert.Equal(secretArn, secret.Arn);
        Assert.Equal("param-from-eu-west-1", fromParameterArn.GetString());
        Assert.Equal("InvalidSignatureException", byName.ErrorCode);
        var requests = west.Requests.Snapshot();
        Assert.Equal([EmulatorOutcome.Ok, EmulatorOutcome.Ok, EmulatorOutcome.AuthFailed], requests.Select(r => r.Outcome));
        Assert.Equal(0, Aws.Requests.Total);
    }

    [Theory]
    [InlineData("http://secretsmanager.us-east-1.amazonaws.com/")]
    [InlineData("http://10.0.0.5:4566")]
    [InlineData("http://example.com")]
    public void A_plain_http_endpoint_that_is_not_loopback_is_rejected_when_the_provider_is_built(string url)
    {
        foreach (var configure in new Action<AwsOptions>[] { o => o.ServiceUrl = url, o => o.SecretsManagerServiceUrl = url, o => o.ParameterStoreServiceUrl = url })
        {
            var options = Options();
            configure(options.Aws);

            var error = Assert.Throws<SecretsConfigurationException>(() => Own(new SecretProvider(options)));

            Assert.Contains("http://", error.Message, StringComparison.Ordinal);
            Assert.Contains("loopback", error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(0, Aws.Requests.Total);
    }

    [Fact]
    public async Task A_plain_http_localhost_endpoint_is_allowed()
    {
        var name = SecretName("localhost");
        Aws.CreateSecret(name, "via-localhost");
        var provider = CreateProvider(o => o.Aws.ServiceUrl = $"http://localhost:{Aws.Endpoint.Port}/");

        Assert.Equal("via-localhost", await provider.GetStringAsync(name));
        Assert.Equal(1, Aws.Requests.Count(GetSecretValue));
        Assert.Equal(0, Aws.Requests.Count(GetParameter));
    }

    [Fact]
    public async Task A_blank_per_service_url_counts_as_unset_and_ServiceUrl_applies()
    {
        var name = SecretName("blank");
        Aws.CreateSecret(name, "via-service-url");
        var parameter = ParameterRoot() + "blank";
        Aws.PutParameter(parameter, "p-via-service-url", "String");
        var provider = CreateProvider(o =>
        {
            o.Aws.SecretsManagerServiceUrl = "";
            o.Aws.ParameterStoreServiceUrl = "  ";
        });

        Assert.Equal("via-service-url", await provider.GetStringAsync(name));
        Assert.Equal("p-via-service-url", await provider.GetStringAsync("ssm:" + parameter));
        Assert.Equal(2, Aws.Requests.Total);
    }
}

/// <summary>The default credential and region chains, with the ambient AWS environment removed for the test.</summary>
[Collection(nameof(ProcessEnvironmentCollection))]
public sealed class DefaultChainTests(AwsFixture fixture) : ProviderTestBase(fixture), IClassFixture<AwsFixture>
{
    [Fact]
    public async Task No_credentials_anywhere_is_a_configuration_error_before_any_request()
    {
        var name = SecretName("nocreds");
        Aws.CreateSecret(name, "unreached");
        using var environment = EnvironmentScope.WithoutAmbientAws();
        var provider = CreateProvider(o => o.Aws.Credentials = null);

        var error = await Assert.ThrowsAsync<SecretsConfigurationException>(() => provider.GetAsync(name).AsTask());

        Assert.Contains("credentials", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("SecretsCacheOptions.Aws.Credentials", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, Aws.Requests.Total);
    }

    [Fact]
    public async Task No_region_anywhere_is_a_configuration_error_but_arns_still_carry_their_own()
    {
        var name = SecretName("noregion");
        var arn = Aws.CreateSecret(name, "found-by-arn");
        using var environment = EnvironmentScope.WithoutAmbientAws();
        var provider = CreateProvider(o => o.Aws.Region = null);

        var error = await Assert.ThrowsAsync<SecretsConfigurationException>(() => provider.GetAsync(name).AsTask());

        Assert.Contains("region", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, Aws.Requests.Total);

        // One message wherever a region is found missing: the first read, endpoint resolution, start-up validation.
        Assert.Equal(SecretsCache.Aws.Identity.RegionResolver.NoRegionMessage, error.Message);
        var atEndpoint = Assert.Throws<SecretsConfigurationException>(() => SecretsCache.Aws.Endpoints.AwsEndpointResolver.Resolve(
            SecretsCache.Aws.Endpoints.AwsService.SecretsManager, " ", new SecretsCache.Aws.Endpoints.EndpointSettings(null, false, false), _ => null));
        Assert.Equal(error.Message, atEndpoint.Message);
        Assert.Equal("found-by-arn", await provider.GetStringAsync(arn));
        Assert.Equal(1, Aws.Requests.Total);
    }
}
