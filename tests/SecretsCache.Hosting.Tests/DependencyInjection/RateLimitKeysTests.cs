using Microsoft.Extensions.Configuration;
using SecretsCache.Hosting.DependencyInjection;

namespace SecretsCache.Hosting.Tests.DependencyInjection;

/// <summary>Every <see cref="RateLimitOptions"/> setting binds from configuration (docs/hosting.md: bind the rest, then size the fleet in code).</summary>
public sealed class RateLimitKeysTests
{
    [Fact]
    public void BurstSeconds_and_the_batch_rate_bind_like_the_other_rate_limits()
    {
        var section = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SecretsCache:RateLimits:BurstSeconds"] = "0.5",
            ["SecretsCache:RateLimits:SecretsManagerBatchRequestsPerSecond"] = "20",
            ["SecretsCache:RateLimits:SecretsManagerRequestsPerSecond"] = "250",
        }).Build().GetSection("SecretsCache");
        var options = new SecretsCacheOptions();

        SecretsCacheOptionsBinder.Bind(section, options);

        Assert.Equal(0.5, options.RateLimits.BurstSeconds);
        Assert.Equal(20, options.RateLimits.SecretsManagerBatchRequestsPerSecond);
        Assert.Equal(250, options.RateLimits.SecretsManagerRequestsPerSecond);
    }
}
