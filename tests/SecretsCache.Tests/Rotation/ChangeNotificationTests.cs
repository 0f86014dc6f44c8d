using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using SecretsCache.Tests.Fakes;
using SecretsCache.Tests.Rotation.Support;
using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Rotation;

public sealed class ChangeNotificationTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly StagedSecretSource _source;
    private readonly SecretProvider _provider;
    private readonly ConcurrentQueue<SecretChangedEventArgs> _events = new();
    private readonly FakeLoggerProvider _logs = new();

    public ChangeNotificationTests()
    {
        _source = new StagedSecretSource(_time);
        _source.Put("app/db", "one");
        _provider = new SecretProvider(
            _source,
            new SecretsCacheOptions { TtlJitter = 0, RefreshAheadFraction = 1, StaleFallbackTimeout = TimeSpan.Zero, MaxStaleness = TimeSpan.Zero },
            _time,
            LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(_logs)));
        _provider.SecretChanged += (sender, e) =>
        {
            Assert.Same(_provider, sender);
            _events.Enqueue(e);
        };
    }

    public void Dispose()
    {
        _provider.Dispose();
        _logs.Dispose();
    }

    /// <summary>Expires the value, then lets <paramref name="readers"/> readers all join one held refresh before it answers.</summary>
    private async Task ReadConcurrentlyAfterExpiry(int readers)
    {
        _time.Advance(TimeSpan.FromMinutes(5));
        var fetches = _source.TotalCalls;
        _source.Hold();
        var reads = Concurrently.StartAndWaitUntilCalled(readers, _ => _provider.GetAsync("app/db").AsTask(), $"{readers} readers to join the refresh");
        Assert.All(reads, r => Assert.False(r.IsCompleted));
        _source.Release();
        await Task.WhenAll(reads);
        Assert.Equal(fetches + 1, _source.TotalCalls); // they shared one refresh
    }

    [Fact]
    public async Task Each_version_change_is_announced_exactly_once_however_many_readers_share_the_refresh()
    {
        var v1 = (await _provider.GetAsync("app/db")).VersionId;
        var v2 = _source.Put("app/db", "two");
        await ReadConcurrentlyAfterExpiry(200);
        for (var i = 0; i < 20; i++)
        {
            await _provider.RefreshAsync("app/db"); // Forced refreshes that see the same version announce nothing.
            _time.Advance(TimeSpan.FromSeconds(5));
        }

        var v3 = _source.Put("app/db", "three");
        await ReadConcurrentlyAfterExpiry(200);

        Assert.Collection(
            _events,
            e => Assert.Equal(("sm:app/db", v1, v2), (e.Reference, e.OldVersion, e.NewVersion)),
            e => Assert.Equal(("sm:app/db", v2, v3), (e.Reference, e.OldVersion, e.NewVersion)));
        Assert.True(_events.First().IsFor("app/db"));
        Assert.False(_events.First().IsFor("app/other"));
        Assert.DoesNotContain("two", _events.First().ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_first_load_and_unchanged_refreshes_announce_nothing()
    {
        await _provider.GetAsync("app/db");
        _time.Advance(TimeSpan.FromMinutes(5));
        await _provider.GetAsync("app/db");
        await _provider.RefreshAsync("app/db");

        Assert.Empty(_events);
    }

    [Fact]
    public async Task A_handler_that_throws_does_not_break_the_cache_or_the_other_handlers()
    {
        var later = 0;
        _provider.SecretChanged += (_, _) => throw new InvalidOperationException("handler bug");
        _provider.SecretChanged += (_, _) => later++;
        var token = _provider.GetChangeToken("app/db");
        using var registration = token.RegisterChangeCallback(_ => throw new InvalidOperationException("callback bug"), null);
        await _provider.GetAsync("app/db");
        var v2 = _source.Put("app/db", "two");

        var refreshed = await _provider.RefreshAsync("app/db");

        Assert.Equal(v2, refreshed.VersionId);
        Assert.Equal(v2, (await _provider.GetAsync("app/db")).VersionId);
        Assert.Single(_events);
        Assert.Equal(1, later);
        Assert.True(token.HasChanged);
        _time.Advance(TimeSpan.FromMinutes(5));
        _source.Put("app/db", "three");
        Assert.Equal("three", (await _provider.GetAsync("app/db")).GetString()); // The entry still works after the throwing handlers.
    }

    [Fact]
    public async Task A_throwing_handler_is_logged_without_values_and_does_not_wedge_the_key()
    {
        _provider.SecretChanged += (_, e) => throw new InvalidOperationException($"handler bug for {e.Reference}");
        await _provider.GetAsync("app/db");
        var v2 = _source.Put("app/db", "two-secret-value");

        // Many readers share the refresh whose store runs the throwing handler: every one of them gets the new value.
        await ReadConcurrentlyAfterExpiry(50);
        Assert.Equal(v2, (await _provider.GetAsync("app/db")).VersionId);

        // Logged as a warning naming the reference, with the handler's exception; no value anywhere.
        var failure = Assert.Single(_logs.Collector.GetSnapshot(), r => r.Id.Id == 105);
        Assert.Equal(LogLevel.Warning, failure.Level);
        Assert.Contains("sm:app/db", failure.Message, StringComparison.Ordinal);
        Assert.Equal("handler bug for sm:app/db", Assert.IsType<InvalidOperationException>(failure.Exception).Message);
        Assert.All(_logs.Collector.GetSnapshot(), r =>
        {
            Assert.DoesNotContain("two-secret-value", r.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(r.StructuredState ?? [], kv => kv.Value?.ToString()?.Contains("two-secret-value", StringComparison.Ordinal) == true);
        });

        // The key is not wedged: no fetch is left in flight, forced refreshes still work, and the next change is announced too.
        var v3 = _source.Put("app/db", "three");
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(v3, (await _provider.RefreshAsync("app/db")).VersionId);
        Assert.Equal([v2, v3], _events.Select(e => e.NewVersion));
        Assert.Equal(2, _logs.Collector.GetSnapshot().Count(r => r.Id.Id == 105));
    }

    [Fact]
    public async Task A_change_token_fires_once_at_the_next_change_and_a_new_one_waits_for_the_change_after()
    {
        await _provider.GetAsync("app/db");
        var token = _provider.GetChangeToken("sm:app/db");
        var fired = 0;
        using var registration = token.RegisterChangeCallback(_ => Interlocked.Increment(ref fired), null);
        Assert.False(token.HasChanged);
        Assert.True(token.ActiveChangeCallbacks);

        _source.Put("app/db", "two");
        await ReadConcurrentlyAfterExpiry(50);

        Assert.True(token.HasChanged);
        Assert.Equal(1, fired);
        var next = _provider.GetChangeToken("app/db"); // Any spelling.
        Assert.False(next.HasChanged);

        _source.Put("app/db", "three");
        await ReadConcurrentlyAfterExpiry(50);
        Assert.True(next.HasChanged);
        Assert.Equal(1, fired);
    }

    [Fact]
    public async Task ChangeToken_OnChange_sees_every_change_once()
    {
        await _provider.GetAsync("app/db");
        var changes = 0;
        using var subscription = ChangeToken.OnChange(() => _provider.GetChangeToken("app/db"), () => Interlocked.Increment(ref changes));

        for (var i = 0; i < 3; i++)
        {
            _source.Put("app/db", $"v{i}");
            await ReadConcurrentlyAfterExpiry(20);
        }

        Assert.Equal(3, changes);
        Assert.Equal(3, _events.Count);
    }

    [Fact]
    public void Another_ISecretProvider_gets_tokens_that_never_fire_and_an_event_that_is_never_raised()
    {
        ISecretProvider other = new NothingProvider();
        var token = other.GetChangeToken("app/db");
        var fired = false;

        using (token.RegisterChangeCallback(_ => fired = true, null))
        {
            Assert.False(token.HasChanged);
            Assert.False(token.ActiveChangeCallbacks); // so ChangeToken.OnChange polls HasChanged, which never turns true
        }

        EventHandler<SecretChangedEventArgs> handler = (_, _) => fired = true;
        Assert.Null(Record.Exception(() => other.SecretChanged += handler));
        Assert.Null(Record.Exception(() => other.SecretChanged -= handler));
        Assert.False(fired);
    }

    private sealed class NothingProvider : ISecretProvider
    {
        public ValueTask<Secret> GetAsync(string reference, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask<Secret> RefreshAsync(string reference, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public void Invalidate(string reference)
        {
        }

        public void InvalidateAll()
        {
        }

        public Task<IReadOnlyDictionary<string, Secret>> GetPathAsync(string path, bool recursive = true, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public Task<WarmUpResult> WarmUpAsync(IEnumerable<string> references, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
