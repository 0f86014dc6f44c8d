using SecretsCache.Aws.Endpoints;
using SecretsCache.Aws.Identity;

namespace SecretsCache.Tests.Aws.Endpoints;

/// <summary>Region checks and the FIPS / dual-stack environment variables.</summary>
public sealed class RegionAndFlagTests
{
    private static ResolvedEndpoint Resolve(AwsService service, string region, IReadOnlyDictionary<string, string?>? environment = null, bool fips = false, bool dualStack = false) =>
        AwsEndpointResolver.Resolve(service, region, new EndpointSettings(null, fips, dualStack), name => environment?.GetValueOrDefault(name));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void A_missing_region_says_where_to_set_one(string? region)
    {
        var ex = Assert.Throws<SecretsConfigurationException>(() => Resolve(AwsService.SecretsManager, region!));

        Assert.Equal(RegionResolver.NoRegionMessage, ex.Message);
        Assert.Contains("SecretsCacheOptions.Aws.Region", ex.Message, StringComparison.Ordinal);
        Assert.Contains("AWS_REGION", ex.Message, StringComparison.Ordinal);
        Assert.Contains("profile", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_region_is_required_even_with_a_custom_endpoint_because_it_signs_requests()
    {
        var ex = Assert.Throws<SecretsConfigurationException>(() =>
            AwsEndpointResolver.Resolve(AwsService.ParameterStore, "", new EndpointSettings("http://localhost:4566", false, false), _ => null));

        Assert.Equal(RegionResolver.NoRegionMessage, ex.Message);
    }

    [Theory]
    [InlineData("US-EAST-1")]
    [InlineData("us-east-1.evil.example")]
    [InlineData("us-east-1/")]
    [InlineData("us east 1")]
    [InlineData("-us-east-1")]
    [InlineData("us-east-1-")]
    [InlineData("us_east_1")]
    public void A_malformed_region_is_rejected_by_name(string region)
    {
        var ex = Assert.Throws<SecretsConfigurationException>(() => Resolve(AwsService.SecretsManager, region));

        Assert.Contains($"'{region}' is malformed", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_region_longer_than_a_dns_label_is_rejected_without_repeating_it()
    {
        var region = new string('a', 64);

        var ex = Assert.Throws<SecretsConfigurationException>(() => Resolve(AwsService.SecretsManager, region));

        Assert.Contains("malformed", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(region, ex.Message, StringComparison.Ordinal);
        Assert.Equal("https://secretsmanager.aaaa.amazonaws.com/", Resolve(AwsService.SecretsManager, "aaaa").Url.AbsoluteUri);
    }

    [Theory]
    [InlineData("true")]
    [InlineData("TRUE")]
    [InlineData(" true")]
    public void AWS_USE_FIPS_ENDPOINT_turns_fips_on(string value)
    {
        var environment = new Dictionary<string, string?> { ["AWS_USE_FIPS_ENDPOINT"] = value };

        Assert.Equal("https://secretsmanager-fips.us-east-2.amazonaws.com/", Resolve(AwsService.SecretsManager, "us-east-2", environment).Url.AbsoluteUri);
    }

    [Fact]
    public void AWS_USE_DUALSTACK_ENDPOINT_turns_dual_stack_on_and_combines_with_the_fips_option()
    {
        var environment = new Dictionary<string, string?> { ["AWS_USE_DUALSTACK_ENDPOINT"] = "true" };

        Assert.Equal("https://ssm.ap-south-1.api.aws/", Resolve(AwsService.ParameterStore, "ap-south-1", environment).Url.AbsoluteUri);
        Assert.Equal("https://ssm-fips.ap-south-1.api.aws/", Resolve(AwsService.ParameterStore, "ap-south-1", environment, fips: true).Url.AbsoluteUri);
    }

    [Fact]
    public void False_in_the_environment_does_not_turn_off_an_option_that_is_on()
    {
        var environment = new Dictionary<string, string?> { ["AWS_USE_FIPS_ENDPOINT"] = "false", ["AWS_USE_DUALSTACK_ENDPOINT"] = "false" };

        Assert.Equal("https://ssm.us-west-2.amazonaws.com/", Resolve(AwsService.ParameterStore, "us-west-2", environment).Url.AbsoluteUri);
        Assert.Equal("https://ssm-fips.us-west-2.api.aws/", Resolve(AwsService.ParameterStore, "us-west-2", environment, fips: true, dualStack: true).Url.AbsoluteUri);
    }

    [Theory]
    [InlineData("AWS_USE_FIPS_ENDPOINT", "1")]
    [InlineData("AWS_USE_FIPS_ENDPOINT", "yes")]
    [InlineData("AWS_USE_DUALSTACK_ENDPOINT", "on")]
    public void A_flag_that_is_neither_true_nor_false_is_an_error_naming_the_variable(string name, string value)
    {
        var environment = new Dictionary<string, string?> { [name] = value };

        var ex = Assert.Throws<SecretsConfigurationException>(() => Resolve(AwsService.SecretsManager, "us-east-1", environment));

        Assert.Contains(name, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unsupported_partition_names_the_region_and_partition_after_the_rule_sets_message()
    {
        var noFips = new PartitionInfo("aws-test", "example.test", "dualstack.example.test", SupportsFips: false, SupportsDualStack: true);

        var ex = Assert.Throws<SecretsConfigurationException>(() => AwsEndpointResolver.Resolve(
            AwsService.SecretsManager, "test-east-1", new EndpointSettings(null, true, false), _ => null, _ => noFips));

        Assert.Equal("FIPS is enabled but this partition does not support FIPS (region 'test-east-1' is in partition 'aws-test').", ex.Message);
    }
}
