using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Caching;

/// <summary>
/// The engine's version-change signal (used by rotation): raised when a refresh brings a different version, never for an
/// unchanged one, and a subscriber that throws cannot break the cache.
/// </summary>
public sealed class VersionChangedTests
{
    [Fact]
    public async Task A_refresh_that_brings_a_new_version_raises_the_signal_with_old_and_new()
    {
        using var cache = CacheHarness.Create();
        var changes = new List<(SecretReference Reference, string? Old, string? New)>();
        cache.Provider.Engine.VersionChanged += (reference, old, @new) => changes.Add((reference, old.Version, @new.Version));
        cache.Source.Set("app/db", "one");
        await cache.ReadAsync("app/db");

        await cache.Provider.RefreshAsync("app/db"); // same version: no signal
        cache.Source.Set("app/db", "two");
        cache.Time.Advance(cache.Options.MinForcedRefreshInterval); // forced refreshes are rate-limited per reference
        await cache.Provider.RefreshAsync("app/db");

        var change = Assert.Single(changes);
        Assert.Equal("sm:app/db", change.Reference.ToString());
        Assert.Equal(("v1", "v2"), (change.Old, change.New));
    }

    [Fact]
    public async Task A_throwing_subscriber_does_not_wedge_the_key()
    {
        using var cache = CacheHarness.Create();
        cache.Provider.Engine.VersionChanged += (_, _, _) => throw new InvalidOperationException("subscriber bug");
        cache.Source.Set("app/db", "one");
        await cache.ReadAsync("app/db");
        cache.Source.Set("app/db", "two");

        // The source answers synchronously, so a refresh that is not wedged has completed by the time it returns.
        var refreshed = Completed.Result(cache.Provider.RefreshAsync("app/db"), "the refresh to complete despite the subscriber");

        Assert.Equal("two", refreshed.GetString());
        cache.Source.Set("app/db", "three");
        cache.Time.Advance(cache.Options.DefaultTtl);
        Assert.Equal("three", Completed.Result(cache.Provider.GetAsync("app/db"), "the next fetch to run").GetString());
        Assert.Equal(3, cache.Source.Calls);
    }
}
