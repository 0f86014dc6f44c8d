using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Logging;
using SecretsCache.Tests.Fakes;
using SecretsCache.Tests.Rotation.Support;
using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Rotation;

/// <summary>
/// The forced-refresh interval is kept per reference, not per cache entry: dropping the entry (Invalidate, InvalidateAll, the
/// size bound) neither resets it nor lets forced refreshes through early.
/// </summary>
public sealed class ForcedRefreshAfterRemovalTests : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private readonly FakeTimeProvider _time = new();
    private readonly StagedSecretSource _source;
    private readonly FakeLoggerProvider _logs = new();
    private readonly SecretProvider _provider;

    public ForcedRefreshAfterRemovalTests()
    {
        _source = new StagedSecretSource(_time);
        _source.Put("app/db", "one");
        var options = new SecretsCacheOptions { TtlJitter = 0, RefreshAheadFraction = 1, MinForcedRefreshInterval = Interval, MaxEntries = 10 };
        _provider = new SecretProvider(_source, options, _time, LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(_logs)));
    }

    public void Dispose()
    {
        _provider.Dispose();
        _logs.Dispose();
    }

    [Theory]
    [InlineData("Invalidate")]
    [InlineData("InvalidateAll")]
    [InlineData("eviction")]
    public async Task After_the_entry_is_dropped_refreshes_inside_the_interval_cost_one_ordinary_read_and_the_next_forced_fetch_waits_for_the_interval(string removal)
    {
        await _provider.GetAsync("app/db");
        await _provider.RefreshAsync("app/db"); // the forced fetch at 0 s: the interval runs to 5 s
        Assert.Equal(2, _source.Calls("app/db"));
        await DropAsync(removal);

        // Inside the interval, 100 concurrent refreshes of the dropped reference read like any read of an empty cache:
        // one fetch, shared, and not a forced one.
        _time.Advance(TimeSpan.FromSeconds(1));
        var v2 = _source.Put("app/db", "two");
        var refreshed = await Task.WhenAll(Concurrently.Start(100, _ => _provider.RefreshAsync("sm:app/db").AsTask()));
        Assert.All(refreshed, s => Assert.Equal(v2, s.VersionId));
        Assert.Equal(3, _source.Calls("app/db"));
        Assert.Contains(_logs.Collector.GetSnapshot(), r => r.Id.Id == 100); // "answered from the cache: the last one was less than 5000 ms ago"

        // The interval that began before the removal still holds until 5 s, then one forced fetch goes through.
        _source.Put("app/db", "three");
        _time.Advance(TimeSpan.FromSeconds(3.9));
        await _provider.RefreshAsync("app/db");
        Assert.Equal(3, _source.Calls("app/db"));
        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal("three", (await _provider.RefreshAsync("app/db")).GetString());
        Assert.Equal(4, _source.Calls("app/db"));
    }

    [Fact]
    public async Task Dropping_a_reference_again_and_again_never_makes_its_refreshes_forced_ones()
    {
        await _provider.GetAsync("app/db");
        await _provider.RefreshAsync("app/db");

        // Each Invalidate empties the cache, so the next refresh must read (an ordinary fetch); none of them is forced, so
        // the forced fetch at 5 s still goes through as the first after the one at 0 s.
        for (var i = 1; i <= 4; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            _provider.Invalidate("app/db");
            await _provider.RefreshAsync("app/db");
            Assert.Equal(2 + i, _source.Calls("app/db"));
            await _provider.RefreshAsync("app/db"); // the value it read is fresh: no fetch
            Assert.Equal(2 + i, _source.Calls("app/db"));
        }

        _time.Advance(TimeSpan.FromSeconds(1));
        await _provider.RefreshAsync("app/db");
        Assert.Equal(7, _source.Calls("app/db"));
    }

    private async Task DropAsync(string removal)
    {
        switch (removal)
        {
            case "Invalidate":
                _provider.Invalidate("app/db");
                break;
            case "InvalidateAll":
                _provider.InvalidateAll();
                break;
            default:
                // Ten more recently read keys fill the bound of ten: the least recently read, app/db, is evicted (the
                // fetch that follows proves it: a cached value would have answered the refreshes).
                for (var i = 0; i < 10; i++)
                {
                    _time.Advance(TimeSpan.FromTicks(1));
                    _source.Put($"app/k{i}", "v");
                    await _provider.GetAsync($"app/k{i}");
                }

                break;
        }
    }
}
