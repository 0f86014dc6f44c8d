using SecretsCache.Resilience;
using SecretsCache.Tests.Fakes;

namespace SecretsCache.Tests.Resilience;

/// <summary>Which errors move a read to the next region, in which order the regions come, and how the option is checked.</summary>
public sealed class RegionFailoverTests
{
    public static TheoryData<Exception, bool> Errors => new()
    {
        { new SecretServiceUnavailableException("500", "sm:x", "InternalServiceError"), true },
        { new SecretServiceUnavailableException("503", "sm:x", "ServiceUnavailable"), true },
        { new SecretServiceUnavailableException("slow", "sm:x", "AttemptTimeout"), true },
        { new SecretServiceUnavailableException("unreachable", "sm:x", "ConnectionError"), true },
        { new SecretServiceUnavailableException("open", "sm:x", "CircuitOpen"), true },
        { new SecretServiceUnavailableException("spent", "sm:x", "RetryBudgetExhausted"), true },
        { new SecretServiceUnavailableException("bad 2xx", "sm:x", "MalformedResponse"), true },
        { new SecretServiceUnavailableException("too big", "sm:x", RetryPipelineFactory.ResponseTooLarge), false },
        { new SecretNotFoundException("gone", "sm:x", "ResourceNotFoundException"), false },
        { new SecretAccessDeniedException("no", "sm:x", "AccessDeniedException"), false },
        { new SecretRequestException("bad", "sm:x", "ValidationException"), false },
        { new SecretThrottledException("slow down", "sm:x", "ThrottlingException"), false },
        { new SecretThrottledException("limited", "sm:x", RetryPipelineFactory.ClientRateLimited), false },
        { new SecretDecryptionException("kms", "sm:x", "DecryptionFailure"), false },
        { new OperationCanceledException(), false },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void Outages_fail_over_and_answers_do_not(Exception error, bool failsOver) =>
        Assert.Equal(failsOver, RegionFailover.IsOutage(error));

    [Fact]
    public void Regions_come_in_the_configured_order_without_the_primary_or_another_partition()
    {
        string[] configured = ["eu-west-1", "us-west-2", "eu-central-1"];

        Assert.Equal(["eu-west-1", "us-west-2", "eu-central-1"], RegionFailover.After("us-east-1", configured));
        Assert.Equal(["eu-west-1", "eu-central-1"], RegionFailover.After("us-west-2", configured)); // an ARN naming a failover region
        Assert.Empty(RegionFailover.After("cn-north-1", configured)); // an ARN of another partition has no replica there
        Assert.Empty(RegionFailover.After("us-east-1", []));
    }

    [Theory]
    [InlineData("us-east-1", new[] { "eu-west-1", "us-west-2" })]
    [InlineData(null, new[] { "eu-west-1" })]
    [InlineData("cn-north-1", new[] { "cn-northwest-1" })]
    [InlineData("us-gov-west-1", new[] { "us-gov-east-1" })]
    public void A_valid_list_has_no_errors(string? primary, string[] failover) =>
        Assert.Empty(RegionFailover.Validate(primary, failover));

    [Theory]
    [InlineData("us-east-1", new[] { "eu-west-1", "" }, "Aws.FailoverRegions[1] is empty.")]
    [InlineData("us-east-1", new[] { "EU-WEST-1" }, "Aws.FailoverRegions[0] is not a region name")]
    [InlineData("us-east-1", new[] { "eu west 1" }, "Aws.FailoverRegions[0] is not a region name")]
    [InlineData("us-east-1", new[] { "narnia" }, "Aws.FailoverRegions[0] is not a region name")]
    [InlineData("us-east-1", new[] { "eu-west-1", "eu-west-1" }, "Aws.FailoverRegions[1]: 'eu-west-1' is listed more than once.")]
    [InlineData("us-east-1", new[] { "us-east-1" }, "Aws.FailoverRegions[0]: 'us-east-1' is the primary region")]
    [InlineData("us-east-1", new[] { "cn-north-1" }, "Aws.FailoverRegions[0]: 'cn-north-1' is in partition 'aws-cn', the primary region 'us-east-1' in 'aws'")]
    [InlineData(null, new[] { "eu-west-1", "us-gov-west-1" }, "Aws.FailoverRegions[1]: 'us-gov-west-1' is in partition 'aws-us-gov', the regions before it in 'aws'")]
    public void Each_problem_is_named_by_its_index(string? primary, string[] failover, string expected)
    {
        var error = Assert.Single(RegionFailover.Validate(primary, failover));

        Assert.StartsWith(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_that_is_not_a_region_name_is_never_quoted()
    {
        var error = Assert.Single(RegionFailover.Validate("us-east-1", ["<script>\nsecret-ish"]));

        Assert.DoesNotContain("script", error, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-ish", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_option_is_validated_with_the_others_and_a_provider_refuses_it()
    {
        var options = new SecretsCacheOptions();
        options.Aws.Region = "eu-west-1";
        options.Aws.FailoverRegions.Add("eu-west-1");

        Assert.Contains(options.Validate(), e => e.StartsWith("Aws.FailoverRegions[0]: 'eu-west-1' is the primary region", StringComparison.Ordinal));
        var refused = Assert.Throws<SecretsConfigurationException>(() => new SecretProvider(new FakeSecretSource(), options));
        Assert.Contains("Aws.FailoverRegions[0]", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_primary_resolved_later_that_conflicts_is_a_configuration_error()
    {
        var error = Assert.Throws<SecretsConfigurationException>(() => RegionFailover.ThrowIfConflicts("eu-west-1", ["us-east-1", "eu-west-1"]));

        Assert.Contains("resolved region 'eu-west-1'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Aws.FailoverRegions[1]", error.Message, StringComparison.Ordinal);
        RegionFailover.ThrowIfConflicts("us-west-2", ["us-east-1", "eu-west-1"]); // no conflict: no exception
    }

    [Fact]
    public async Task A_call_that_fails_over_is_not_retried_after_an_outage()
    {
        var attempts = await AttemptsUntilItSurfaces(failsOver: true, () => new SecretServiceUnavailableException("503", "sm:x", "ServiceUnavailable"));

        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task A_call_without_a_next_region_retries_an_outage_as_before()
    {
        var attempts = await AttemptsUntilItSurfaces(failsOver: false, () => new SecretServiceUnavailableException("503", "sm:x", "ServiceUnavailable"));

        Assert.Equal(1 + Defaults.MaxRetryAttempts, attempts);
    }

    [Fact]
    public async Task A_call_that_fails_over_still_retries_throttling_in_its_region()
    {
        var attempts = await AttemptsUntilItSurfaces(failsOver: true, () => new SecretThrottledException("slow down", "sm:x", "ThrottlingException"));

        Assert.Equal(1 + Defaults.MaxThrottlingRetryAttempts, attempts);
    }

    /// <summary>Jitter pinned to zero, so retries do not wait on the clock.</summary>
    private static async Task<int> AttemptsUntilItSurfaces(bool failsOver, Func<Exception> failure)
    {
        var pipeline = RetryPipelineFactory.Create(new RetryOptions(), new FakeTimeProvider(), () => 0);
        var attempts = 0;
        await Assert.ThrowsAnyAsync<SecretsCacheException>(() => pipeline.ExecuteAsync<int, int>(
            (_, _) =>
            {
                attempts++;
                throw failure();
            },
            0,
            limiter: null,
            reference: null,
            CancellationToken.None,
            failsOver).AsTask());
        return attempts;
    }
}
