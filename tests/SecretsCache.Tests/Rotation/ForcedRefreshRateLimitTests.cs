using SecretsCache.Tests.Fakes;
using SecretsCache.Tests.Rotation.Support;

namespace SecretsCache.Tests.Rotation;

public sealed class ForcedRefreshRateLimitTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly StagedSecretSource _source;

    public ForcedRefreshRateLimitTests()
    {
        _source = new StagedSecretSource(_time);
        _source.Put("app/db", "one");
    }

    private SecretProvider Provider(TimeSpan? interval = null) =>
        new(_source, new SecretsCacheOptions { TtlJitter = 0, RefreshAheadFraction = 1, MinForcedRefreshInterval = interval ?? TimeSpan.FromSeconds(5) }, _time);

    [Fact]
    public async Task A_forced_refresh_inside_the_interval_returns_the_cached_value_without_a_backend_call()
    {
        using var provider = Provider();
        await provider.GetAsync("app/db");
        var first = await provider.RefreshAsync("app/db");
        Assert.Equal(2, _source.Calls("app/db"));

        var v2 = _source.Put("app/db", "two");
        _time.Advance(TimeSpan.FromSeconds(4.9));
        var second = await provider.RefreshAsync("sm:app/db"); // Any spelling: the interval is per reference.
        Assert.Same(first, second);
        Assert.Equal(2, _source.Calls("app/db"));

        _time.Advance(TimeSpan.FromSeconds(0.1));
        var third = await provider.RefreshAsync("app/db");
        Assert.Equal(v2, third.VersionId);
        Assert.Equal(3, _source.Calls("app/db"));
    }

    [Fact]
    public async Task Only_forced_refreshes_count_so_the_first_one_after_an_ordinary_fetch_goes_through()
    {
        using var provider = Provider();
        await provider.GetAsync("app/db");
        var v2 = _source.Put("app/db", "two");

        Assert.Equal(v2, (await provider.RefreshAsync("app/db")).VersionId);
        Assert.Equal(2, _source.Calls("app/db"));
    }

    [Fact]
    public async Task Concurrent_forced_refreshes_share_one_fetch_and_later_ones_inside_the_interval_make_none()
    {
        using var provider = Provider();
        await provider.GetAsync("app/db");
        _source.Hold();
        var refreshes = Enumerable.Range(0, 1000).Select(_ => provider.RefreshAsync("app/db").AsTask()).ToArray();
        _source.Release();
        await Task.WhenAll(refreshes);
        for (var i = 0; i < 100; i++)
        {
            await provider.RefreshAsync("app/db");
        }

        Assert.Equal(2, _source.Calls("app/db"));
    }

    [Fact]
    public async Task A_forced_refresh_joins_a_fetch_already_under_way_even_inside_the_interval()
    {
        using var provider = Provider();
        await provider.RefreshAsync("app/db");
        _source.Hold();
        _time.Advance(TimeSpan.FromSeconds(5));
        var running = provider.RefreshAsync("app/db").AsTask(); // Starts a fetch (the interval has passed) that is held.
        var v2 = _source.Put("app/db", "two");
        var joined = provider.RefreshAsync("app/db").AsTask();
        Assert.False(joined.IsCompleted);
        _source.Release();

        Assert.Equal(v2, (await joined).VersionId);
        Assert.Same(await running, await joined);
        Assert.Equal(2, _source.Calls("app/db"));
    }

    [Fact]
    public async Task A_zero_interval_turns_the_limit_off()
    {
        using var provider = Provider(TimeSpan.Zero);
        for (var i = 0; i < 5; i++)
        {
            await provider.RefreshAsync("app/db");
        }

        Assert.Equal(5, _source.Calls("app/db"));
    }

    [Fact]
    public async Task Inside_the_interval_a_reference_with_no_value_goes_through_the_ordinary_read_path_and_its_negative_cache()
    {
        using var provider = Provider();
        await Assert.ThrowsAsync<SecretNotFoundException>(async () => await provider.RefreshAsync("app/missing"));
        for (var i = 0; i < 10; i++)
        {
            await Assert.ThrowsAsync<SecretNotFoundException>(async () => await provider.RefreshAsync("app/missing"));
        }

        Assert.Equal(1, _source.Calls("app/missing"));
    }

    [Fact]
    public void The_interval_must_not_be_negative()
    {
        var options = new SecretsCacheOptions { MinForcedRefreshInterval = TimeSpan.FromSeconds(-1) };
        Assert.Contains(options.Validate(), e => e.Contains(nameof(SecretsCacheOptions.MinForcedRefreshInterval), StringComparison.Ordinal));
        Assert.Equal(TimeSpan.FromSeconds(5), new SecretsCacheOptions().MinForcedRefreshInterval);
    }
}
