using Microsoft.Extensions.Configuration;
using SecretsCache.Hosting.DependencyInjection;

namespace SecretsCache.Hosting.Tests.DependencyInjection;

public sealed class OptionsBinderTests
{
    private static IConfigurationSection Section(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection("SecretsCache");

    [Fact]
    public void Binds_top_level_values_and_the_get_only_nested_objects()
    {
        var options = new SecretsCacheOptions();
        SecretsCacheOptionsBinder.Bind(Section(new()
        {
            ["SecretsCache:DefaultTtl"] = "00:02:00",
            ["SecretsCache:TtlJitter"] = "0.25",
            ["SecretsCache:MaxEntries"] = "42",
            ["SecretsCache:IncludeNamesInTelemetry"] = "true",
            ["SecretsCache:Aws:Region"] = "eu-west-1",
            ["SecretsCache:Aws:ServiceUrl"] = "http://127.0.0.1:4566/",
            ["SecretsCache:Aws:VersionAwareRefresh"] = "true",
            ["SecretsCache:Aws:AttemptTimeout"] = "00:00:03",
            ["SecretsCache:Aws:MaxResponseBytes"] = "1048576",
            ["SecretsCache:Retry:MaxRetryAttempts"] = "5",
            ["SecretsCache:Retry:BaseDelay"] = "00:00:00.250",
            ["SecretsCache:Retry:MaxThrottlingRetryAttempts"] = "7",
            ["SecretsCache:Retry:ThrottlingBaseDelay"] = "00:00:02",
            ["SecretsCache:Retry:BreakDuration"] = "00:00:00",
            ["SecretsCache:RateLimits:ParameterStoreRequestsPerSecond"] = "12.5",
            ["SecretsCache:RateLimits:Behavior"] = "failfast",
            ["SecretsCache:TtlByReference:app/db"] = "00:00:30",
            ["SecretsCache:TtlByReference:ssm:/app/prod/key"] = "00:10:00",
        }), options);

        Assert.Equal(TimeSpan.FromMinutes(2), options.DefaultTtl);
        Assert.Equal(0.25, options.TtlJitter);
        Assert.Equal(42, options.MaxEntries);
        Assert.True(options.IncludeNamesInTelemetry);
        Assert.Equal("eu-west-1", options.Aws.Region);
        Assert.Equal("http://127.0.0.1:4566/", options.Aws.ServiceUrl);
        Assert.True(options.Aws.VersionAwareRefresh);
        Assert.Equal(TimeSpan.FromSeconds(3), options.Aws.AttemptTimeout);
        Assert.Equal(1024 * 1024, options.Aws.MaxResponseBytes);
        Assert.Equal(7, options.Retry.MaxThrottlingRetryAttempts);
        Assert.Equal(TimeSpan.FromSeconds(2), options.Retry.ThrottlingBaseDelay);
        Assert.Equal(5, options.Retry.MaxRetryAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.Retry.BaseDelay);
        Assert.Equal(TimeSpan.Zero, options.Retry.BreakDuration);
        Assert.Equal(12.5, options.RateLimits.ParameterStoreRequestsPerSecond);
        Assert.Equal(RateLimitBehavior.FailFast, options.RateLimits.Behavior);
        Assert.Equal(TimeSpan.FromSeconds(30), options.TtlByReference["app/db"]);
        // The ':' inside "ssm:/app/prod/key" is a configuration path separator; the binder joins it back.
        Assert.Equal(TimeSpan.FromMinutes(10), options.TtlByReference["ssm:/app/prod/key"]);
        Assert.Empty(options.Validate());
    }

    [Fact]
    public void Every_bad_value_and_unknown_key_is_reported_at_once()
    {
        var ex = Assert.Throws<SecretsConfigurationException>(() => SecretsCacheOptionsBinder.Bind(Section(new()
        {
            ["SecretsCache:DefaultTtl"] = "five minutes",
            ["SecretsCache:Retry:MaxRetryAttempts"] = "many",
            ["SecretsCache:DefaultTTLs"] = "00:01:00",
            ["SecretsCache:RateLimits:Behavior"] = "Drop",
        }), new SecretsCacheOptions()));

        Assert.Contains("'SecretsCache:DefaultTtl' must be a TimeSpan", ex.Message);
        Assert.Contains("'SecretsCache:Retry:MaxRetryAttempts' must be a whole number", ex.Message);
        Assert.Contains("'SecretsCache:DefaultTTLs' is not a SecretsCache option", ex.Message);
        Assert.Contains("'SecretsCache:RateLimits:Behavior' must be Wait or FailFast", ex.Message);
        Assert.DoesNotContain("five minutes", ex.Message);
    }

    [Theory]
    [InlineData("SecretsCache:Aws:SecretAccessKey")]
    [InlineData("SecretsCache:Aws:AccessKeyId")]
    [InlineData("SecretsCache:Aws:Credentials:AccessKey")]
    public void Credentials_cannot_come_from_configuration_and_are_never_echoed(string key)
    {
        var ex = Assert.Throws<SecretsConfigurationException>(() => SecretsCacheOptionsBinder.Bind(Section(new() { [key] = "AKIA-SECRET-VALUE" }), new SecretsCacheOptions()));

        Assert.Contains("credentials cannot come from configuration", ex.Message);
        Assert.DoesNotContain("AKIA-SECRET-VALUE", ex.Message);
    }
}
