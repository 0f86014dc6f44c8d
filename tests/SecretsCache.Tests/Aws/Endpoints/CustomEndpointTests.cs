using SecretsCache.Aws.Endpoints;

namespace SecretsCache.Tests.Aws.Endpoints;

/// <summary>Where a custom endpoint comes from, what is accepted, and how it is normalised.</summary>
public sealed class CustomEndpointTests
{
    private const string SecretsManagerVariable = "AWS_ENDPOINT_URL_SECRETS_MANAGER";
    private const string SsmVariable = "AWS_ENDPOINT_URL_SSM";
    private const string GlobalVariable = "AWS_ENDPOINT_URL";
    private const string IgnoreVariable = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS";

    private static readonly Dictionary<string, string?> AllEndpointVariables = new()
    {
        [SecretsManagerVariable] = "https://sm.example.com",
        [SsmVariable] = "https://ssm.example.com",
        [GlobalVariable] = "https://global.example.com",
    };

    private static ResolvedEndpoint Resolve(AwsService service, string? serviceUrl, IReadOnlyDictionary<string, string?> environment, bool fips = false, bool dualStack = false) =>
        AwsEndpointResolver.Resolve(service, "eu-west-1", new EndpointSettings(serviceUrl, fips, dualStack), name => environment.GetValueOrDefault(name));

    private static SecretsConfigurationException Rejected(string serviceUrl) =>
        Assert.Throws<SecretsConfigurationException>(() => Resolve(AwsService.SecretsManager, serviceUrl, AllEndpointVariables));

    [Fact]
    public void The_option_wins_over_every_variable()
    {
        var resolved = Resolve(AwsService.SecretsManager, "https://option.example.com", AllEndpointVariables);

        Assert.Equal("https://option.example.com/", resolved.Url.AbsoluteUri);
        Assert.Equal("eu-west-1", resolved.SigningRegion);
        Assert.Equal("secretsmanager", resolved.SigningService);
    }

    [Fact]
    public void The_service_variable_wins_over_AWS_ENDPOINT_URL_and_each_service_reads_only_its_own()
    {
        Assert.Equal("https://sm.example.com/", Resolve(AwsService.SecretsManager, null, AllEndpointVariables).Url.AbsoluteUri);
        var ssm = Resolve(AwsService.ParameterStore, null, AllEndpointVariables);
        Assert.Equal("https://ssm.example.com/", ssm.Url.AbsoluteUri);
        Assert.Equal("ssm", ssm.SigningService);
    }

    [Fact]
    public void AWS_ENDPOINT_URL_applies_when_the_service_has_no_variable_of_its_own()
    {
        var onlyOthers = new Dictionary<string, string?> { [SsmVariable] = "https://ssm.example.com", [GlobalVariable] = "https://global.example.com" };

        Assert.Equal("https://global.example.com/", Resolve(AwsService.SecretsManager, null, onlyOthers).Url.AbsoluteUri);
    }

    [Fact]
    public void Blank_values_count_as_unset()
    {
        var blanks = new Dictionary<string, string?> { [SecretsManagerVariable] = "  ", [GlobalVariable] = "https://global.example.com" };

        Assert.Equal("https://global.example.com/", Resolve(AwsService.SecretsManager, "", blanks).Url.AbsoluteUri);
        Assert.Equal("https://secretsmanager.eu-west-1.amazonaws.com/", Resolve(AwsService.SecretsManager, " ", new Dictionary<string, string?> { [GlobalVariable] = "" }).Url.AbsoluteUri);
    }

    [Theory]
    [InlineData("true")]
    [InlineData("TRUE")]
    [InlineData(" True ")]
    public void The_ignore_flag_drops_every_variable_but_not_the_option(string flag)
    {
        var environment = new Dictionary<string, string?>(AllEndpointVariables) { [IgnoreVariable] = flag };

        Assert.Equal("https://secretsmanager.eu-west-1.amazonaws.com/", Resolve(AwsService.SecretsManager, null, environment).Url.AbsoluteUri);
        Assert.Equal("https://ssm.eu-west-1.amazonaws.com/", Resolve(AwsService.ParameterStore, null, environment).Url.AbsoluteUri);
        Assert.Equal("https://option.example.com/", Resolve(AwsService.SecretsManager, "https://option.example.com", environment).Url.AbsoluteUri);
    }

    [Fact]
    public void The_ignore_flag_set_to_false_changes_nothing_and_other_values_are_errors()
    {
        var off = new Dictionary<string, string?>(AllEndpointVariables) { [IgnoreVariable] = "false" };
        Assert.Equal("https://sm.example.com/", Resolve(AwsService.SecretsManager, null, off).Url.AbsoluteUri);

        var garbled = new Dictionary<string, string?>(AllEndpointVariables) { [IgnoreVariable] = "1" };
        var ex = Assert.Throws<SecretsConfigurationException>(() => Resolve(AwsService.SecretsManager, null, garbled));
        Assert.Contains(IgnoreVariable, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://localhost:4566", "http://localhost:4566/")]
    [InlineData("http://LOCALHOST:4566/", "http://localhost:4566/")]
    [InlineData("http://127.0.0.1:4566", "http://127.0.0.1:4566/")]
    [InlineData("http://127.45.6.7", "http://127.45.6.7/")]
    [InlineData("http://[::1]:4566", "http://[::1]:4566/")]
    [InlineData("https://secretsmanager.example.com", "https://secretsmanager.example.com/")]
    [InlineData("https://secretsmanager.example.com:8443/", "https://secretsmanager.example.com:8443/")]
    [InlineData("HTTPS://Secrets.Example.com", "https://secrets.example.com/")]
    [InlineData("https://proxy.example.com/aws/secrets", "https://proxy.example.com/aws/secrets/")]
    [InlineData("https://proxy.example.com/aws/secrets//", "https://proxy.example.com/aws/secrets/")]
    [InlineData("  https://10.1.2.3 \n", "https://10.1.2.3/")]
    public void Https_anywhere_and_http_to_loopback_are_accepted_as_a_base_url_ending_in_a_slash(string serviceUrl, string expected)
    {
        var resolved = Resolve(AwsService.SecretsManager, serviceUrl, AllEndpointVariables);

        Assert.Equal(expected, resolved.Url.AbsoluteUri);
        Assert.EndsWith("/", resolved.Url.AbsolutePath, StringComparison.Ordinal);
        Assert.Equal(resolved.Url, new Uri(resolved.Url, ""));
    }

    [Theory]
    [InlineData("http://example.com", "example.com")]
    [InlineData("http://10.0.0.1:4566", "10.0.0.1")]
    [InlineData("http://128.0.0.1", "128.0.0.1")]
    [InlineData("http://[::2]", "[::2]")]
    [InlineData("http://localhost.example.com", "localhost.example.com")]
    [InlineData("http://[::ffff:127.0.0.1]", "[::ffff:127.0.0.1]")]
    public void Plain_http_to_anything_but_loopback_is_rejected(string serviceUrl, string host)
    {
        var ex = Rejected(serviceUrl);

        Assert.Contains("SecretsCacheOptions.Aws.ServiceUrl", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"'{host}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("loopback", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("hunter2.example.com")]
    [InlineData("/hunter2/path")]
    [InlineData("hunter2/path")]
    [InlineData("localhost:4566")]
    [InlineData("https://")]
    [InlineData("https:///hunter2")]
    [InlineData("ftp://hunter2.example.com")]
    [InlineData("file:///hunter2")]
    [InlineData("not a hunter2 url")]
    [InlineData("hunter2:correct-horse")]
    public void Relative_or_garbage_urls_are_rejected_without_repeating_them(string serviceUrl)
    {
        var ex = Rejected(serviceUrl);

        Assert.Contains("SecretsCacheOptions.Aws.ServiceUrl", ex.Message, StringComparison.Ordinal);
        Assert.Contains("is not an absolute https:// URL", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://admin:hunter2@secrets.example.com", "user info")]
    [InlineData("https://hunter2@secrets.example.com", "user info")]
    [InlineData("https://secrets.example.com/?token=hunter2", "query")]
    [InlineData("https://secrets.example.com/#hunter2", "fragment")]
    public void Credentials_queries_and_fragments_are_rejected_without_repeating_them(string serviceUrl, string why)
    {
        var ex = Rejected(serviceUrl);

        Assert.Contains(why, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_variable_is_named_in_the_error()
    {
        var environment = new Dictionary<string, string?> { [SsmVariable] = "http://ssm.internal" };

        var ex = Assert.Throws<SecretsConfigurationException>(() => Resolve(AwsService.ParameterStore, null, environment));

        Assert.Contains(SsmVariable, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_the_endpoint_in_force_is_checked()
    {
        var environment = new Dictionary<string, string?> { [SecretsManagerVariable] = "https://sm.example.com", [GlobalVariable] = "garbage" };

        Assert.Equal("https://sm.example.com/", Resolve(AwsService.SecretsManager, null, environment).Url.AbsoluteUri);
    }

    [Theory]
    [InlineData(true, false, "Invalid Configuration: FIPS and custom endpoint are not supported", "SecretsCacheOptions.Aws.UseFips")]
    [InlineData(true, true, "Invalid Configuration: FIPS and custom endpoint are not supported", "SecretsCacheOptions.Aws.UseFips")]
    [InlineData(false, true, "Invalid Configuration: Dualstack and custom endpoint are not supported", "SecretsCacheOptions.Aws.UseDualStack")]
    public void A_custom_endpoint_with_fips_or_dual_stack_is_the_rule_sets_error(bool fips, bool dualStack, string ruleSetMessage, string source)
    {
        var ex = Assert.Throws<SecretsConfigurationException>(() => Resolve(AwsService.SecretsManager, "http://localhost:4566", AllEndpointVariables, fips, dualStack));

        Assert.StartsWith(ruleSetMessage, ex.Message, StringComparison.Ordinal);
        Assert.Contains("SecretsCacheOptions.Aws.ServiceUrl", ex.Message, StringComparison.Ordinal);
        Assert.Contains(source, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("AWS_USE_FIPS_ENDPOINT", "Invalid Configuration: FIPS and custom endpoint are not supported")]
    [InlineData("AWS_USE_DUALSTACK_ENDPOINT", "Invalid Configuration: Dualstack and custom endpoint are not supported")]
    public void Fips_or_dual_stack_from_the_environment_with_a_custom_endpoint_is_the_same_error(string flag, string ruleSetMessage)
    {
        var environment = new Dictionary<string, string?>(AllEndpointVariables) { [flag] = "true" };

        var ex = Assert.Throws<SecretsConfigurationException>(() => Resolve(AwsService.ParameterStore, null, environment));

        Assert.StartsWith(ruleSetMessage, ex.Message, StringComparison.Ordinal);
        Assert.Contains(SsmVariable, ex.Message, StringComparison.Ordinal);
        Assert.Contains(flag, ex.Message, StringComparison.Ordinal);
    }
}
