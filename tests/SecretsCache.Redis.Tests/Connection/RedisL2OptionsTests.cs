using SecretsCache.Redis.Connection;
using SecretsCache.Redis.Tests.Support;

namespace SecretsCache.Redis.Tests.Connection;

public sealed class RedisL2OptionsTests
{
    private static RedisL2Options Valid() => Levels.Options("127.0.0.1:6379", "orders", Levels.NewKey());

    [Fact]
    public void Defaults_with_a_configuration_a_namespace_and_a_key_are_valid()
    {
        Assert.Empty(Valid().Validate());
        var fromSecret = new RedisL2Options { Configuration = "rediss://cache.internal:6380", Namespace = "orders", EncryptionKeySecret = "app/redis-key" };
        Assert.Empty(fromSecret.Validate());
    }

    [Theory]
    [InlineData("Configuration")]
    [InlineData("Namespace")]
    [InlineData("EncryptionKey")]
    [InlineData("LeaseWaitTimeout")]
    [InlineData("OperationTimeout")]
    [InlineData("MaxClockSkew")]
    [InlineData("FleetRateLimits.ParameterStoreRequestsPerSecond")]
    [InlineData("FleetRateLimits.MaxBlock")]
    [InlineData("FleetRateLimits.FallbackGrowthMargin")]
    [InlineData("CircuitBreaker.MinimumThroughput")]
    [InlineData("CircuitBreaker.FirstBreakDuration")]
    public void Each_invalid_setting_is_named(string setting)
    {
        var options = Valid();
        switch (setting)
        {
            case "Configuration": options.Configuration = " "; break;
            case "Namespace": options.Namespace = "has space"; break;
            case "EncryptionKey": options.EncryptionKey = new byte[31]; break;
            case "LeaseWaitTimeout": options.LeaseWaitTimeout = options.LeaseDuration + TimeSpan.FromSeconds(1); break;
            case "OperationTimeout": options.OperationTimeout = TimeSpan.Zero; break;
            case "MaxClockSkew": options.MaxClockSkew = TimeSpan.FromMilliseconds(999); break;
            case "FleetRateLimits.ParameterStoreRequestsPerSecond": options.FleetRateLimits.ParameterStoreRequestsPerSecond = 1; break;
            case "FleetRateLimits.MaxBlock": options.FleetRateLimits.MaxBlock = 0; break;
            case "FleetRateLimits.FallbackGrowthMargin": options.FleetRateLimits.FallbackGrowthMargin = double.NaN; break;
            case "CircuitBreaker.MinimumThroughput": options.CircuitBreaker.MinimumThroughput = 1; break;
            case "CircuitBreaker.FirstBreakDuration": options.CircuitBreaker.FirstBreakDuration = TimeSpan.FromMilliseconds(99); break;
        }

        var errors = options.Validate();

        Assert.Single(errors);
        Assert.StartsWith(setting, errors[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1.0, true)]
    [InlineData(600.0, true)]
    [InlineData(0.999, false)]
    [InlineData(600.001, false)]
    [InlineData(-30.0, false)]
    public void MaxClockSkew_is_between_one_second_and_ten_minutes(double seconds, bool valid)
    {
        var options = Valid();
        options.MaxClockSkew = TimeSpan.FromSeconds(seconds);

        Assert.Equal(valid, options.Validate().Count == 0);
        Assert.Equal(TimeSpan.FromSeconds(30), new RedisL2Options().MaxClockSkew);
    }

    [Fact]
    public void The_key_must_come_from_exactly_one_place_and_a_key_secret_must_be_a_plain_Secrets_Manager_secret()
    {
        var both = Valid();
        both.EncryptionKeySecret = "app/redis-key";
        var neither = Valid();
        neither.EncryptionKey = default;
        var parameter = new RedisL2Options { Configuration = "h:1", Namespace = "n", EncryptionKeySecret = "ssm:/app/redis-key" };
        var staged = new RedisL2Options { Configuration = "h:1", Namespace = "n", EncryptionKeySecret = "app/redis-key?stage=AWSPREVIOUS" };

        Assert.Contains(both.Validate(), e => e.Contains("exactly one", StringComparison.Ordinal));
        Assert.Contains(neither.Validate(), e => e.Contains("exactly one", StringComparison.Ordinal));
        Assert.Contains(parameter.Validate(), e => e.Contains("Secrets Manager secret", StringComparison.Ordinal));
        Assert.Contains(staged.Validate(), e => e.Contains("without a stage", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("redis://app:s3cr3t-pa55@cache:6380/2")]
    [InlineData("cache:6380,password=s3cr3t-pa55,unknownoption=1")]
    [InlineData("http://app:s3cr3t-pa55@cache")]
    [InlineData("redis://app:s3cr3t-pa55@cache/notadb")]
    public void Errors_about_a_configuration_never_quote_its_password(string configuration)
    {
        var options = Valid();
        options.Configuration = configuration;

        foreach (var error in options.Validate())
        {
            Assert.DoesNotContain("s3cr3t-pa55", error, StringComparison.Ordinal);
        }

        var thrown = Record.Exception(options.ThrowIfInvalid);
        Assert.DoesNotContain("s3cr3t-pa55", thrown?.Message ?? string.Empty, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rediss_uri_gives_TLS_the_ACL_user_the_password_and_the_database()
    {
        var options = Valid();
        options.Configuration = "rediss://app%40orders:p%3Ass@cache.internal:6380/3";

        var config = RedisConfiguration.Build(options, password: null);

        Assert.True(config.Ssl);
        Assert.Equal("cache.internal", config.SslHost);
        Assert.Equal("app@orders", config.User);
        Assert.Equal("p:ss", config.Password);
        Assert.Equal(3, config.DefaultDatabase);
        Assert.Equal("Unspecified/cache.internal:6380", config.EndPoints.Single().ToString());
        Assert.False(config.AbortOnConnectFail);
        Assert.Equal(StackExchange.Redis.BacklogPolicy.FailFast, config.BacklogPolicy);
        Assert.False(config.IncludeDetailInExceptions);
    }

    [Fact]
    public void A_plain_uri_has_no_TLS_and_the_default_port_and_a_password_secret_wins_over_the_uri()
    {
        var options = Valid();
        options.Configuration = "redis://cache";
        options.User = "app";

        var config = RedisConfiguration.Build(options, password: "from-secret");

        Assert.False(config.Ssl);
        Assert.Equal("Unspecified/cache:6379", config.EndPoints.Single().ToString());
        Assert.Equal("app", config.User);
        Assert.Equal("from-secret", config.Password);
    }

    [Fact]
    public void Configure_connection_runs_last()
    {
        var options = Valid();
        options.ConfigureConnection = c => c.ConnectTimeout = 1234;

        Assert.Equal(1234, RedisConfiguration.Build(options, null).ConnectTimeout);
    }
}
