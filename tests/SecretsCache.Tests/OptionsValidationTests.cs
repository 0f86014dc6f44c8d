using SecretsCache.Tests.Fakes;
using SecretsCache.Tests.Rotation.Support;

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
        { "MinForcedRefreshInterval", o => o.MinForcedRefreshInterval = TimeSpan.FromTicks(-1) },
        { "Aws.AttemptTimeout", o => o.Aws.AttemptTimeout = TimeSpan.Zero },
        { "Retry.MaxRetryAttempts", o => o.Retry.MaxRetryAttempts = -1 },
        { "Retry.MaxRetryAttempts", o => o.Retry.MaxRetryAttempts = 21 },
        { "Retry.BaseDelay", o => o.Retry.BaseDelay = TimeSpan.Zero },
        { "Retry.MaxDelay", o => o.Retry.MaxDelay = TimeSpan.FromMilliseconds(99) }, // below BaseDelay's 100 ms
        { "Retry.TotalTimeout", o => o.Retry.TotalTimeout = TimeSpan.Zero },
        { "Retry.BreakerFailureRatio", o => o.Retry.BreakerFailureRatio = 0 },
        { "Retry.BreakerFailureRatio", o => o.Retry.BreakerFailureRatio = 1.01 },
        { "Retry.BreakerMinimumThroughput", o => o.Retry.BreakerMinimumThroughput = 1 },
        { "Retry.BreakerSamplingDuration", o => o.Retry.BreakerSamplingDuration = TimeSpan.FromMilliseconds(499) },
        { "Retry.ParameterStore.BreakerMinimumThroughput", o => o.Retry.ParameterStore.BreakerMinimumThroughput = 1 },
        { "Retry.SecretsManager.BreakDuration", o => o.Retry.SecretsManager.BreakDuration = TimeSpan.FromMilliseconds(499) },
        { "Retry.ParameterStore.MaxDelay", o => o.Retry.ParameterStore.BaseDelay = TimeSpan.FromSeconds(6) }, // above Retry.MaxDelay's 5 s
        { "Retry.SecretsManager.MaxDelay", o => o.Retry.SecretsManager.MaxDelay = TimeSpan.FromMilliseconds(99) }, // below Retry.BaseDelay
        { "RateLimits", o => o.RateLimits.SecretsManagerRequestsPerSecond = -1 },
        { "RateLimits", o => o.RateLimits.SecretsManagerRequestsPerSecond = double.NaN },
        { "RateLimits", o => o.RateLimits.SecretsManagerBatchRequestsPerSecond = -0.5 },
        { "RateLimits", o => o.RateLimits.ParameterStoreRequestsPerSecond = -40 },
        { "RateLimits", o => o.RateLimits.ParameterStoreRequestsPerSecond = double.NaN },
        { "RateLimits.BurstSeconds", o => o.RateLimits.BurstSeconds = 0 },
        { "RateLimits.BurstSeconds", o => o.RateLimits.BurstSeconds = -0.1 },
        { "RateLimits.BurstSeconds", o => o.RateLimits.BurstSeconds = 60.001 },
        { "RateLimits.BurstSeconds", o => o.RateLimits.BurstSeconds = double.NaN },
        { "RateLimits.QueueLimit", o => o.RateLimits.QueueLimit = -1 },
        { "RateLimits.Behavior must be Wait or FailFast.", o => o.RateLimits.Behavior = (RateLimitBehavior)2 }, // set in code: no binder saw it
        { "RateLimits.Behavior", o => o.RateLimits.Behavior = (RateLimitBehavior)(-1) },
        { "Snapshot.MaxAgeAfterRestore", o => o.Snapshot.MaxAgeAfterRestore = TimeSpan.FromTicks(-1) },
        { "Aws.FailoverRegions[0]", o => o.Aws.FailoverRegions.Add("not a region") },
        {
            "Aws.FailoverRegions[1]", o =>
            {
                o.Aws.FailoverRegions.Add("eu-west-1");
                o.Aws.FailoverRegions.Add("eu-west-1");
            }
        },
        {
            "Aws.FailoverRegions[0]", o =>
            {
                o.Aws.Region = "us-east-1";
                o.Aws.FailoverRegions.Add("us-east-1");
            }
        },
    };

    public static TheoryData<string, Action<RotationOptions>> BadRotationSettings => new()
    {
        { "IsAuthenticationFailure", o => o.IsAuthenticationFailure = null! },
        { "TimeBudget", o => o.TimeBudget = TimeSpan.FromTicks(-1) },
        { "RecheckDelay", o => o.RecheckDelay = TimeSpan.Zero },
        { "RecheckDelay", o => o.RecheckDelay = TimeSpan.FromSeconds(-1) },
        { "MaxRecheckDelay", o => o.MaxRecheckDelay = TimeSpan.FromMilliseconds(499) }, // below RecheckDelay's 500 ms
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
        Assert.Equal(TimeSpan.FromSeconds(5), options.MinForcedRefreshInterval);
        Assert.False(options.IncludeNamesInTelemetry);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Aws.AttemptTimeout);
        Assert.False(options.Aws.VersionAwareRefresh);
        Assert.Equal(9 * 1024 * 1024, options.Aws.MaxResponseBytes);
        Assert.Empty(options.Aws.FailoverRegions);

        Assert.Equal(3, options.Retry.MaxRetryAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(100), options.Retry.BaseDelay);
        Assert.Equal(5, options.Retry.MaxThrottlingRetryAttempts);
        Assert.Equal(TimeSpan.FromSeconds(1), options.Retry.ThrottlingBaseDelay);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Retry.MaxDelay);
        Assert.Equal(TimeSpan.FromSeconds(20), options.Retry.TotalTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Retry.BreakDuration);
        Assert.Equal(0.5, options.Retry.BreakerFailureRatio);
        Assert.Equal(10, options.Retry.BreakerMinimumThroughput);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Retry.BreakerSamplingDuration);
        foreach (var service in new[] { options.Retry.SecretsManager, options.Retry.ParameterStore })
        {
            Assert.All(typeof(ServiceRetryOptions).GetProperties(), p => Assert.Null(p.GetValue(service))); // unset: Retry's own values
        }

        Assert.DoesNotContain(typeof(RetryOptions).GetProperties(), p => p.PropertyType.Namespace?.StartsWith("Polly", StringComparison.Ordinal) == true);

        Assert.Equal(1_000, options.RateLimits.SecretsManagerRequestsPerSecond);
        Assert.Equal(100, options.RateLimits.SecretsManagerBatchRequestsPerSecond);
        Assert.Equal(40, options.RateLimits.ParameterStoreRequestsPerSecond);
        Assert.Equal(0.1, options.RateLimits.BurstSeconds);
        Assert.Equal(RateLimitBehavior.Wait, options.RateLimits.Behavior);
        Assert.Equal(10_000, options.RateLimits.QueueLimit);
    }

    [Fact]
    public void The_rotation_defaults_are_valid_and_documented()
    {
        var options = new RotationOptions();

        Assert.Empty(options.Validate());
        Assert.True(options.IsAuthenticationFailure(new InvalidPasswordException())); // Any: PostgreSQL's 28P01 among others
        Assert.False(options.IsAuthenticationFailure(new TimeoutException()));
        Assert.Equal(TimeSpan.FromSeconds(30), options.TimeBudget);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.RecheckDelay);
        Assert.Equal(TimeSpan.FromSeconds(5), options.MaxRecheckDelay);
        Assert.True(options.TryPendingVersion);
    }

    [Theory]
    [MemberData(nameof(BadRotationSettings))]
    public void Rotation_Validate_reports_each_bad_setting_by_name(string setting, Action<RotationOptions> spoil)
    {
        var options = new RotationOptions();
        spoil(options);

        var error = Assert.Single(options.Validate());

        Assert.StartsWith(setting, error, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BadRotationSettings))]
    public async Task ExecuteAsync_refuses_invalid_rotation_options_before_running_the_operation(string setting, Action<RotationOptions> spoil)
    {
        var options = new RotationOptions();
        spoil(options);
        var source = new FakeSecretSource();
        source.Set("app/db", "one");
        using var provider = new SecretProvider(source, new SecretsCacheOptions());
        var ran = false;

        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await provider.ExecuteAsync("app/db", (_, _) =>
        {
            ran = true;
            return ValueTask.FromResult(1);
        }, options));

        Assert.Equal("options", error.ParamName);
        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
        Assert.False(ran);
        Assert.Equal(0, source.Calls);
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
        options.Retry.MaxRetryAttempts = 20;
        options.Retry.MaxDelay = options.Retry.BaseDelay;
        options.RateLimits.SecretsManagerRequestsPerSecond = 0;
        options.RateLimits.SecretsManagerBatchRequestsPerSecond = 0;
        options.RateLimits.ParameterStoreRequestsPerSecond = 0;
        options.RateLimits.BurstSeconds = 60;
        options.RateLimits.QueueLimit = 0;
        options.MinForcedRefreshInterval = TimeSpan.Zero;
        options.TtlByReference["ssm:/app/x:3"] = TimeSpan.FromTicks(1);
        options.TtlByReference["app/db"] = TimeSpan.FromMinutes(1);
        options.TtlByReference["sm:app/db"] = TimeSpan.FromMinutes(1); // two spellings, one TTL: no conflict

        Assert.Empty(options.Validate());
        using var provider = new SecretProvider(new FakeSecretSource(), options);
        Assert.Equal(0, provider.Count);
        Assert.Empty(new SecretsCacheOptions { Retry = { MaxRetryAttempts = 0, BreakDuration = TimeSpan.Zero } }.Validate());
        Assert.Empty(new RotationOptions { TimeBudget = TimeSpan.Zero, MaxRecheckDelay = new RotationOptions().RecheckDelay }.Validate());
    }

    /// <summary>
    /// Every option with a validation attribute, found by walking the options types (so an option added later is covered):
    /// a value outside its range fails validation alone, names the option by its path, never quotes the value, and a
    /// provider refuses it with a <see cref="SecretsConfigurationException"/>.
    /// </summary>
    [Fact]
    public void Each_attribute_validated_option_fails_alone_by_its_name_and_never_by_its_value()
    {
        var checkedOptions = new List<string>();
        foreach (var (path, property) in Validated(typeof(SecretsCacheOptions), prefix: ""))
        {
            var options = new SecretsCacheOptions();
            var owner = OwnerOf(options, path);
            var (bad, text) = OutOfRange(property);
            property.SetValue(owner, bad);

            var error = Assert.Single(options.Validate());
            Assert.StartsWith(path + " ", error, StringComparison.Ordinal);
            if (text is not null)
            {
                Assert.DoesNotContain(text, error, StringComparison.Ordinal);
            }

            var refused = Assert.Throws<SecretsConfigurationException>(() => new SecretProvider(new FakeSecretSource(), options));
            Assert.Contains(path, refused.Message, StringComparison.Ordinal);
            checkedOptions.Add(path);
        }

        // The walk reaches the nested options, the per-service retry overrides among them.
        Assert.Contains("DefaultTtl", checkedOptions);
        Assert.Contains("Aws.AttemptTimeout", checkedOptions);
        Assert.Contains("RateLimits.BurstSeconds", checkedOptions);
        Assert.Contains("Retry.TotalTimeout", checkedOptions);
        Assert.Contains("Snapshot.MaxAgeAfterRestore", checkedOptions);
        Assert.Contains("Retry.BreakerMinimumThroughput", checkedOptions);
        Assert.Contains("Retry.ParameterStore.BreakerSamplingDuration", checkedOptions);
        Assert.Contains("Retry.SecretsManager.MaxRetryAttempts", checkedOptions);
        Assert.True(checkedOptions.Count >= 42, $"only {checkedOptions.Count} validated options found");
    }

    [Fact]
    public void Generated_messages_read_as_the_rule_of_the_option()
    {
        Assert.Equal(["DefaultTtl must be positive."], new SecretsCacheOptions { DefaultTtl = TimeSpan.Zero }.Validate());
        Assert.Equal(["NegativeTtl must not be negative."], new SecretsCacheOptions { NegativeTtl = TimeSpan.FromTicks(-1) }.Validate());
        Assert.Equal(["MaxEntries must be at least 1."], new SecretsCacheOptions { MaxEntries = 0 }.Validate());
        Assert.Equal(["RefreshAheadFraction must be above 0 and at most 1."], new SecretsCacheOptions { RefreshAheadFraction = 0 }.Validate());
        Assert.Equal(["Retry.MaxRetryAttempts must be between 0 and 20."], new SecretsCacheOptions { Retry = { MaxRetryAttempts = 21 } }.Validate());
        Assert.Equal(["RateLimits.QueueLimit must not be negative."], new SecretsCacheOptions { RateLimits = { QueueLimit = -1 } }.Validate());
        Assert.Equal(["RecheckDelay must be positive."], new RotationOptions { RecheckDelay = TimeSpan.Zero }.Validate());
        Assert.Equal(["IsAuthenticationFailure must be set."], new RotationOptions { IsAuthenticationFailure = null! }.Validate());
    }

    [Fact]
    public void Each_attribute_validated_rotation_option_fails_alone_by_its_name()
    {
        var found = 0;
        foreach (var (path, property) in Validated(typeof(RotationOptions), prefix: ""))
        {
            var options = new RotationOptions();
            property.SetValue(options, OutOfRange(property).Value);

            Assert.StartsWith(path + " ", Assert.Single(options.Validate()), StringComparison.Ordinal);
            found++;
        }

        Assert.Equal(3, found); // IsAuthenticationFailure, TimeBudget, RecheckDelay; MaxRecheckDelay is a rule across two options
    }

    private static IEnumerable<(string Path, System.Reflection.PropertyInfo Property)> Validated(Type type, string prefix)
    {
        foreach (var property in type.GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance))
        {
            if (property.PropertyType.Namespace == "SecretsCache" && property.PropertyType.IsClass && !property.CanWrite)
            {
                foreach (var nested in Validated(property.PropertyType, prefix + property.Name + "."))
                {
                    yield return nested;
                }
            }
            else if (property.GetCustomAttributes(typeof(System.ComponentModel.DataAnnotations.ValidationAttribute), inherit: true).Length > 0)
            {
                yield return (prefix + property.Name, property);
            }
        }
    }

    private static object OwnerOf(object options, string path)
    {
        foreach (var segment in path.Split('.')[..^1])
        {
            options = options.GetType().GetProperty(segment)!.GetValue(options)!;
        }

        return options;
    }

    /// <summary>A value well outside the option's range (or null where one is required), and its text where a message could quote it.</summary>
    private static (object? Value, string? Text) OutOfRange(System.Reflection.PropertyInfo property)
    {
        if (property.GetCustomAttributes(typeof(System.ComponentModel.DataAnnotations.RequiredAttribute), true).Length > 0)
        {
            return (null, null);
        }

        var range = (System.ComponentModel.DataAnnotations.RangeAttribute)property.GetCustomAttributes(typeof(System.ComponentModel.DataAnnotations.RangeAttribute), true).Single();
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        if (type == typeof(TimeSpan))
        {
            var min = TimeSpan.Parse((string)range.Minimum, System.Globalization.CultureInfo.InvariantCulture);
            var value = min - TimeSpan.FromTicks(1_234_567);
            return (value, value.ToString("c", System.Globalization.CultureInfo.InvariantCulture));
        }

        if (type == typeof(int))
        {
            var value = (int)range.Minimum - 1_234;
            return (value, value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (type == typeof(double))
        {
            return ((double)range.Minimum - 1234.5, "1234.5");
        }

        throw new InvalidOperationException($"{property.Name}: no out-of-range value for {type}");
    }
}
