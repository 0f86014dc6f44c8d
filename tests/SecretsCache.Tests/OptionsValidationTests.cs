using SecretsCache.Tests.Fakes;

namespace SecretsCache.Tests;

/// <summary><see cref="SecretsCacheOptions.Validate"/> names each bad setting, and a provider refuses to start with any of them.</summary>
public sealed class OptionsValidationTests
{
    public static TheoryData<string, Action<SecretsCacheOptions>> BadSettings => new()
    {
        { "DefaultTtl", o => o.DefaultTtl = TimeSpan.Zero },
        { "DefaultTtl", o => o.DefaultTtl = TimeSpan.FromSeconds(-1) },
        { "TtlByReference", o => o.TtlByReference["not a reference"] = TimeSpan.FromMinutes(1) },
        { "TtlByReference['app/db']", o => o.TtlByReference["app/db"] = TimeSpan.Zero },
        {
            "TtlByReference gives 'app/db' and 'sm:app/db?stage=AWSCURRENT'", o =>
            {
                o.TtlByReference["app/db"] = TimeSpan.FromMinutes(1);
                o.TtlByReference["sm:app/db?stage=AWSCURRENT"] = TimeSpan.FromMinutes(2);
            }
        },
        { "TtlJitter", o => o.TtlJitter = -0.01 },
        { "TtlJitter", o => o.TtlJitter = 0.51 },
        { "TtlJitter", o => o.TtlJitter = double.NaN },
        { "RefreshAheadFraction", o => o.RefreshAheadFraction = 0 },
        { "RefreshAheadFraction", o => o.RefreshAheadFraction = 1.01 },
        { "RefreshAheadFraction", o => o.RefreshAheadFraction = double.NaN },
        { "MaxStaleness", o => o.MaxStaleness = TimeSpan.FromTicks(-1) },
        { "StaleFallbackTimeout", o => o.StaleFallbackTimeout = Timeout.InfiniteTimeSpan },
        { "NegativeTtl", o => o.NegativeTtl = TimeSpan.FromSeconds(-1) },
        { "FailureBackoff", o => o.FailureBackoff = TimeSpan.Zero },
        { "FetchTimeout", o => o.FetchTimeout = TimeSpan.Zero },
        { "FetchTimeout", o => o.FetchTimeout = TimeSpan.FromDays(60) },
        { "MaxFailureBackoff", o => o.MaxFailureBackoff = TimeSpan.FromMilliseconds(500) },
        { "MaxEntries", o => o.MaxEntries = 0 },
        { "Retry.BreakDuration", o => o.Retry.BreakDuration = TimeSpan.FromMilliseconds(499) },
        { "Retry.BreakDuration", o => o.Retry.BreakDuration = TimeSpan.FromSeconds(-1) },
        { "Retry.BreakDuration", o => o.Retry.BreakDuration = TimeSpan.FromDays(2) },
        { "Retry.MaxThrottlingRetryAttempts", o => o.Retry.MaxThrottlingRetryAttempts = -1 },
        { "Retry.MaxThrottlingRetryAttempts", o => o.Retry.MaxThrottlingRetryAttempts = 21 },
        { "Retry.ThrottlingBaseDelay", o => o.Retry.ThrottlingBaseDelay = TimeSpan.Zero },
        { "Aws.MaxResponseBytes", o => o.Aws.MaxResponseBytes = 0 },
        { "Aws.MaxResponseBytes", o => o.Aws.MaxResponseBytes = -1 },
    };

    [Fact]
    public void The_defaults_are_valid_and_documented()
    {
        var options = new SecretsCacheOptions();

        Assert.Empty(options.Validate());
        Assert.Equal(TimeSpan.FromMinutes(5), options.DefaultTtl);
        Assert.Equal(0.1, options.TtlJitter);
        Assert.Equal(0.8, options.RefreshAheadFraction);
        Assert.Equal(TimeSpan.FromHours(1), options.MaxStaleness);
        Assert.Equal(TimeSpan.FromSeconds(1), options.StaleFallbackTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), options.NegativeTtl);
        Assert.Equal(10_000, options.MaxEntries);
        Assert.Equal(TimeSpan.FromSeconds(1), options.FailureBackoff);
        Assert.Equal(TimeSpan.FromMinutes(1), options.MaxFailureBackoff);
        Assert.Equal(TimeSpan.FromSeconds(30), options.FetchTimeout);
        Assert.False(options.IncludeNamesInTelemetry);
        Assert.Equal(9 * 1024 * 1024, options.Aws.MaxResponseBytes);
        Assert.Equal(3, options.Retry.MaxRetryAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(100), options.Retry.BaseDelay);
        Assert.Equal(5, options.Retry.MaxThrottlingRetryAttempts);
        Assert.Equal(TimeSpan.FromSeconds(1), options.Retry.ThrottlingBaseDelay);
    }

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void Validate_reports_each_bad_setting_by_name(string setting, Action<SecretsCacheOptions> spoil)
    {
        var options = new SecretsCacheOptions();
        spoil(options);

        var error = Assert.Single(options.Validate());

        Assert.StartsWith(setting, error, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void A_provider_refuses_invalid_options_with_a_configuration_error(string setting, Action<SecretsCacheOptions> spoil)
    {
        var options = new SecretsCacheOptions();
        spoil(options);

        var error = Assert.Throws<SecretsConfigurationException>(() => new SecretProvider(new FakeSecretSource(), options));

        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_bad_setting_is_reported_at_once()
    {
        var options = new SecretsCacheOptions { DefaultTtl = TimeSpan.Zero, TtlJitter = 2, MaxEntries = -5, NegativeTtl = TimeSpan.FromSeconds(-1) };

        var errors = options.Validate();

        Assert.Equal(4, errors.Count);
    }

    [Fact]
    public void The_edges_of_each_range_are_valid()
    {
        var options = new SecretsCacheOptions
        {
            TtlJitter = 0.5,
            RefreshAheadFraction = 1,
            MaxStaleness = TimeSpan.Zero,
            StaleFallbackTimeout = TimeSpan.Zero,
            NegativeTtl = TimeSpan.Zero,
            MaxEntries = 1,
            MaxFailureBackoff = TimeSpan.FromSeconds(1),
            DefaultTtl = TimeSpan.MaxValue,
        };
        options.Retry.BreakDuration = TimeSpan.FromMilliseconds(500);
        options.TtlByReference["ssm:/app/x:3"] = TimeSpan.FromTicks(1);
        options.TtlByReference["app/db"] = TimeSpan.FromMinutes(1);
        options.TtlByReference["sm:app/db"] = TimeSpan.FromMinutes(1); // two spellings, one TTL: no conflict

        Assert.Empty(options.Validate());
        using var provider = new SecretProvider(new FakeSecretSource(), options);
        Assert.Equal(0, provider.Count);
    }
}
