using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Caching;

/// <summary>
/// What the engine does with the sources' MalformedResponse (a 2xx without the member its operation promises): a transient
/// failure like a 5xx, never a not-found. The readers' side is proven over HTTP in the integration tests.
/// </summary>
public sealed class MalformedResponseTests
{
    private static SecretsCacheException Malformed(SecretReference r) =>
        new SecretServiceUnavailableException($"AWS answered GetParameter for '{r}' without its Parameter.", r.ToString(), "MalformedResponse");

    [Fact]
    public async Task The_cached_value_is_kept_and_served_stale_and_the_key_backs_off_as_for_a_5xx()
    {
        using var cache = CacheHarness.Create(o => o.NegativeTtl = TimeSpan.FromHours(1));
        cache.Source.Set("ssm:/app/x", "good");
        await cache.ReadAsync("ssm:/app/x");
        cache.Source.Fail = Malformed;
        cache.Time.Advance(cache.Options.DefaultTtl);

        Assert.Equal("good", await cache.ReadAsync("ssm:/app/x"));
        Assert.Equal("good", await cache.ReadAsync("ssm:/app/x")); // backing off: stale, without a call
        Assert.Equal(2, cache.Source.Calls);
        var health = cache.Provider.GetHealth();
        Assert.Equal((1, 1), (health.Failing, health.ServingStale));

        cache.Source.Fail = null;
        cache.Source.Set("ssm:/app/x", "better");
        cache.Time.Advance(cache.Options.MaxFailureBackoff);
        Assert.Equal("better", await cache.ReadAsync("ssm:/app/x"));
    }

    [Fact]
    public async Task Without_a_cached_value_the_error_surfaces_and_is_retried_after_the_backoff_not_the_negative_TTL()
    {
        using var cache = CacheHarness.Create(o => o.NegativeTtl = TimeSpan.FromHours(1));
        cache.Source.Set("ssm:/app/x", "good");
        cache.Source.Fail = Malformed;

        var error = await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => cache.ReadAsync("ssm:/app/x"));
        Assert.Equal(("MalformedResponse", true), (error.ErrorCode, error.IsTransient));
        await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => cache.ReadAsync("ssm:/app/x")); // backing off: no call
        Assert.Equal(1, cache.Source.Calls);

        cache.Source.Fail = null;
        cache.Time.Advance(cache.Options.FailureBackoff);
        Assert.Equal("good", await cache.ReadAsync("ssm:/app/x"));
    }
}
