using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using SecretsCache.Redis.Tests.Support;
using StackExchange.Redis;

namespace SecretsCache.Redis.Tests.Provider;

/// <summary>
/// Whoever can publish on the backplane channel (Redis itself, or a client its ACL lets publish there) can capture a genuine
/// message and publish its bytes again. Each replayed version change would cost every instance that holds the key one AWS
/// fetch; a replay must cost nothing, whether it comes at once (its id was seen) or later (its send time is too old).
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class ReplayTests(RedisServer server) : FleetProviderTests(server), IDisposable
{
    private const string GetSecretValue = "secretsmanager.GetSecretValue";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly List<ServiceProvider> _meterHosts = [];

    [RedisFact]
    public async Task A_captured_version_change_republished_raw_costs_no_AWS_call_and_raises_no_SecretChanged()
    {
        Aws.CreateSecret("app/db", "v1");
        var a = await Fleet.StartAsync(AnyRefresh);
        var (b, bReceived) = await StartCountedAsync();
        var (c, cReceived) = await StartCountedAsync();
        foreach (var provider in new[] { a, b, c })
        {
            Assert.Equal("v1", await provider.GetStringAsync("app/db"));
        }

        await using var admin = await Server.ConnectAdminAsync();
        var captured = await CaptureAsync(admin, a);
        var changes = new[] { Changes(b), Changes(c) };
        await RotateAsync(a, "v2", changes);
        await RotateAsync(a, "v3", changes);
        var messages = Drain(captured);
        Assert.NotEmpty(messages);
        var calls = Aws.Requests.Count(GetSecretValue);
        var (bBefore, cBefore) = (Count(bReceived), Count(cReceived));

        foreach (var message in messages)
        {
            await admin.GetSubscriber().PublishAsync(a.BackplaneChannel(), message);
        }

        // Both have taken every replay (applied or dropped); then a genuine rotation, which any fetch a replay started precedes.
        await Wait.UntilAsync(() => Count(bReceived) >= bBefore + messages.Length && Count(cReceived) >= cBefore + messages.Length);
        await RotateAsync(a, "v4", changes);

        Assert.Equal(calls + 1, Aws.Requests.Count(GetSecretValue)); // a's refresh to v4 only
        Assert.All(changes, seen => Assert.Equal(["v2", "v3", "v4"], seen.Values));
    }

    [RedisFact]
    public async Task A_captured_version_change_replayed_after_the_clock_window_to_an_instance_that_never_saw_it_is_ignored()
    {
        Aws.CreateSecret("app/db", "v1");
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow()); // near the real time: the emulator checks signatures' dates
        var a = await Fleet.StartAsync(AnyRefresh, time: time);
        var b = await Fleet.StartAsync(time: time);
        Assert.Equal("v1", await a.GetStringAsync("app/db"));
        Assert.Equal("v1", await b.GetStringAsync("app/db"));
        await using var admin = await Server.ConnectAdminAsync();
        var captured = await CaptureAsync(admin, a);
        var changes = new[] { Changes(b) };
        await RotateAsync(a, "v2", changes);
        var old = Drain(captured);
        await RotateAsync(a, "v3", changes);
        // A new instance: it holds v3 (from Redis) and has never seen the v2 announcement, so only its age can refuse it.
        var (late, lateReceived) = await StartCountedAsync(time);
        Assert.Equal("v3", await late.GetStringAsync("app/db"));
        changes = [.. changes, Changes(late)];
        var calls = Aws.Requests.Count(GetSecretValue);
        time.Advance(TimeSpan.FromSeconds(31)); // past the default 30 s either side

        foreach (var message in old)
        {
            await admin.GetSubscriber().PublishAsync(a.BackplaneChannel(), message);
        }

        await Wait.UntilAsync(() => Count(lateReceived) >= old.Length);
        await RotateAsync(a, "v4", changes);

        Assert.Equal(calls + 1, Aws.Requests.Count(GetSecretValue));
        Assert.Equal(["v2", "v3", "v4"], changes[0].Values);
        Assert.Equal(["v4"], changes[1].Values);
    }

    /// <summary>The rotating provider refreshes as often as the test rotates.</summary>
    private static void AnyRefresh(SecretsCacheOptions o) => o.MinForcedRefreshInterval = TimeSpan.Zero;

    public void Dispose()
    {
        foreach (var host in _meterHosts)
        {
            host.Dispose();
        }
    }

    /// <summary>A provider whose received backplane messages (applied or rejected) are counted.</summary>
    private async Task<(SecretProvider Provider, MetricCollector<long> Received)> StartCountedAsync(TimeProvider? time = null)
    {
        var host = new ServiceCollection().AddMetrics().BuildServiceProvider();
        _meterHosts.Add(host);
        var meters = host.GetRequiredService<IMeterFactory>();
        var received = new MetricCollector<long>(meters, SecretsCacheTelemetry.MeterName, "secretscache.backplane.messages");
        return (await Fleet.StartAsync(time: time, meters: meters), received);
    }

    private static int Count(MetricCollector<long> messages) =>
        messages.GetMeasurementSnapshot().Count(m => (string?)m.Tags["secretscache.backplane.direction"] == "received");

    /// <summary>
    /// Rotates at AWS, refreshes on <paramref name="from"/>, and waits until every watched provider raised SecretChanged for
    /// it; each log then names the value by the version's place (v2, v3, ...).
    /// </summary>
    private async Task RotateAsync(SecretProvider from, string value, ChangeLog[] watched)
    {
        var version = Aws.PutSecretValue("app/db", value);
        var seen = watched.Select(w => w.Expect(version, value)).ToArray();
        Assert.Equal(value, (await from.RefreshAsync("app/db")).GetString());
        await Task.WhenAll(seen).WaitAsync(Bound);
    }

    private static ChangeLog Changes(SecretProvider provider)
    {
        var log = new ChangeLog();
        provider.SecretChanged += (_, e) => log.Add(e.NewVersion);
        return log;
    }

    /// <summary>Every message on the backplane channel, as raw bytes, from another client (what Redis, or an ACL user, can do).</summary>
    private static async Task<Channel<byte[]>> CaptureAsync(ConnectionMultiplexer admin, SecretProvider provider)
    {
        var captured = Channel.CreateUnbounded<byte[]>();
        await admin.GetSubscriber().SubscribeAsync(provider.BackplaneChannel(), (_, value) => captured.Writer.TryWrite((byte[])value!));
        return captured;
    }

    private static byte[][] Drain(Channel<byte[]> captured)
    {
        var messages = new List<byte[]>();
        while (captured.Reader.TryRead(out var message))
        {
            messages.Add(message);
        }

        return [.. messages];
    }

    /// <summary>The versions one provider's SecretChanged reported, in order (by the value each was made with), and a signal per expected version.</summary>
    private sealed class ChangeLog
    {
        private readonly ConcurrentQueue<string?> _versions = new();
        private readonly ConcurrentDictionary<string, (string Value, TaskCompletionSource Seen)> _expected = new(StringComparer.Ordinal);

        public string[] Values => [.. _versions.Select(v => v is not null && _expected.TryGetValue(v, out var e) ? e.Value : "unexpected " + v)];

        public Task Expect(string version, string value) => _expected.GetOrAdd(version, _ => (value, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously))).Seen.Task;

        public void Add(string? version)
        {
            _versions.Enqueue(version);
            if (version is not null && _expected.TryGetValue(version, out var expected))
            {
                expected.Seen.TrySetResult();
            }
        }
    }
}

internal static class BackplaneChannels
{
    public static RedisChannel BackplaneChannel(this SecretProvider provider) => FleetProviders.LevelOf(provider).Connection.Names.BackplaneChannel;
}
