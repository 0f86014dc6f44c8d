using SecretsCache.Resilience;
using SecretsCache.Tests.Fakes;
using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Composition;

/// <summary>
/// Options are validated once and frozen when a provider is built: changing the options object afterwards, even to values
/// that would not validate, changes no behaviour.
/// </summary>
public sealed class FrozenSettingsTests
{
    [Fact]
    public async Task Changing_every_cache_option_after_construction_changes_nothing()
    {
        var cache = CacheHarness.Create(o =>
        {
            o.DefaultTtl = TimeSpan.FromMinutes(5);
            o.MaxStaleness = TimeSpan.FromMinutes(10);
            o.StaleFallbackTimeout = TimeSpan.FromSeconds(1);
            o.TtlByReference["app/pinned"] = TimeSpan.FromMinutes(1);
        });
        using var _ = cache;
        MutateEverything(cache.Options);

        cache.Source.Set("app/db", "one");
        cache.Source.Set("app/pinned", "p1");
        Assert.Equal("one", await cache.ReadAsync("app/db"));
        Assert.Equal("p1", await cache.ReadAsync("app/pinned"));

        // DefaultTtl stays 5 minutes (not the 1 ms set later) and the per-reference TTL stays 1 minute (not removed).
        cache.Source.Set("app/db", "two");
        cache.Source.Set("app/pinned", "p2");
        cache.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal("one", await cache.ReadAsync("app/db"));
        Assert.Equal("p1", await cache.ReadAsync("app/pinned"));
        cache.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal("p2", await cache.ReadAsync("app/pinned"));

        // MaxStaleness stays 10 minutes (not the zero set later): a transient failure past expiry serves the stale value.
        cache.Time.Advance(TimeSpan.FromMinutes(5));
        cache.Source.Fail = Errors.Unavailable;
        Assert.Equal("one", await cache.ReadAsync("app/db"));
    }

    [Fact]
    public void A_per_service_retry_override_changes_only_that_service_s_settings()
    {
        var options = new SecretsCacheOptions { Retry = { MaxRetryAttempts = 2, BreakerSamplingDuration = TimeSpan.FromSeconds(30) } };
        options.Retry.ParameterStore.BreakerMinimumThroughput = 3;
        options.Retry.ParameterStore.TotalTimeout = TimeSpan.FromSeconds(7);
        options.Retry.SecretsManager.BreakerFailureRatio = 0.25;

        var settings = SecretsCache.Composition.SecretsCacheSettings.From(options);
        var ssm = settings.RetryFor(SecretsCache.Aws.Endpoints.AwsService.ParameterStore);
        var sm = settings.RetryFor(SecretsCache.Aws.Endpoints.AwsService.SecretsManager);

        Assert.Equal((3, TimeSpan.FromSeconds(7), 0.5), (ssm.BreakerMinimumThroughput, ssm.TotalTimeout, ssm.BreakerFailureRatio));
        Assert.Equal((10, TimeSpan.FromSeconds(20), 0.25), (sm.BreakerMinimumThroughput, sm.TotalTimeout, sm.BreakerFailureRatio));
        Assert.All([ssm, sm], s => Assert.Equal((2, TimeSpan.FromSeconds(30)), (s.MaxRetryAttempts, s.BreakerSamplingDuration))); // shared values

        options.Retry.ParameterStore.BreakerMinimumThroughput = 50; // frozen: no effect after construction
        Assert.Equal(3, ssm.BreakerMinimumThroughput);
    }

    [Fact]
    public async Task Changing_retry_options_after_the_pipeline_is_built_changes_nothing()
    {
        var options = new RetryOptions { MaxRetryAttempts = 2 };
        var pipeline = RetryPipelineFactory.Create(options, new FakeTimeProvider(), () => 0);
        options.MaxRetryAttempts = 0;
        options.TotalTimeout = TimeSpan.Zero;

        var attempts = 0;
        await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => pipeline.ExecuteAsync<int>(_ =>
        {
            attempts++;
            throw new SecretServiceUnavailableException("down", "sm:x", "InternalServiceError");
        }).AsTask());
        Assert.Equal(3, attempts);
    }

    private static void MutateEverything(SecretsCacheOptions o)
    {
        o.DefaultTtl = TimeSpan.FromMilliseconds(1);
        o.TtlByReference.Clear();
        o.TtlJitter = double.NaN;
        o.RefreshAheadFraction = 0.001;
        o.MaxStaleness = TimeSpan.Zero;
        o.StaleFallbackTimeout = TimeSpan.Zero;
        o.NegativeTtl = TimeSpan.MaxValue;
        o.MaxEntries = 0;
        o.FailureBackoff = TimeSpan.Zero;
        o.MaxFailureBackoff = TimeSpan.Zero;
        o.FetchTimeout = TimeSpan.Zero;
        o.MinForcedRefreshInterval = TimeSpan.MaxValue;
        o.IncludeNamesInTelemetry = true;
        o.Aws.AttemptTimeout = TimeSpan.Zero;
        o.Aws.MaxResponseBytes = 0;
        o.Aws.Region = "nowhere";
        o.Retry.MaxRetryAttempts = -1;
        o.Retry.TotalTimeout = TimeSpan.Zero;
        o.RateLimits.SecretsManagerRequestsPerSecond = double.NaN;
        o.RateLimits.QueueLimit = -1;
    }
}
