using SecretsCache.Sources;
using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Caching;

/// <summary>Path listings go through the engine: single-flight, the FetchTimeout budget, the caller's cancellation.</summary>
public sealed class PathTests
{
    [Fact]
    public async Task A_listing_past_FetchTimeout_fails_as_FetchTimeout_and_its_token_is_cancelled()
    {
        using var cache = CacheHarness.Create(o => o.FetchTimeout = TimeSpan.FromSeconds(10));
        cache.Source.Set("ssm:/app/a", "1");
        cache.Source.Hold();

        var listing = cache.Provider.GetPathAsync("/app/");
        Eventually.True(() => cache.Source.PathCalls == 1, "the listing to reach the source");
        cache.Time.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromTicks(1));
        Assert.False(listing.IsCompleted);
        cache.Time.Advance(TimeSpan.FromTicks(1));

        var error = await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => listing);
        Assert.Equal("FetchTimeout", error.ErrorCode);
        Assert.True(Assert.Single(cache.Source.Tokens).IsCancellationRequested);
    }

    [Fact]
    public async Task A_caller_that_cancels_stops_waiting_while_the_shared_listing_goes_on_for_the_others()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("ssm:/app/a", "1");
        cache.Source.Hold();
        using var cancel = new CancellationTokenSource();

        var impatient = cache.Provider.GetPathAsync("/app/", cancellationToken: cancel.Token);
        var patient = cache.Provider.GetPathAsync("/app/");
        Eventually.True(() => cache.Source.PathCalls == 1, "the listing to reach the source");
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => impatient);
        Assert.False(Assert.Single(cache.Source.Tokens).IsCancellationRequested);
        cache.Source.Release();
        Assert.Equal("1", (await patient)["/app/a"].GetString());
        Assert.Equal(1, cache.Source.PathCalls);
        Assert.Equal("1", await cache.ReadAsync("ssm:/app/a")); // primed by the listing
        Assert.Equal(0, cache.Source.Calls);
    }

    [Fact]
    public void The_page_bound_holds_the_advanced_tier_limit_of_one_account_and_region()
    {
        // ssm/service-2.json caps GetParametersByPath MaxResults at 10; the advanced tier allows 100,000 parameters.
        Assert.Equal(100_000, ParameterStoreReader.MaxPathPages * ParameterStoreReader.BatchLimit);
    }
}
