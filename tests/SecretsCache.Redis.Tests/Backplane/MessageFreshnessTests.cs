using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using SecretsCache.Redis.Backplane;
using SecretsCache.Redis.Encryption;
using SecretsCache.Redis.Tests.Support;

namespace SecretsCache.Redis.Tests.Backplane;

/// <summary>
/// Backplane messages between instances whose clocks differ, and replays in bulk: a message arrives within
/// <see cref="RedisL2Options.MaxClockSkew"/> of the receiver's clock, either way, and not beyond; a flood of captured genuine
/// messages delivered again is dropped whole while the memory of seen ids stays bounded.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class MessageFreshnessTests(RedisServer server)
{
    private const string Key = "sm:app/db";
    private const string Version = "a1b2c3d4-0000-4000-8000-000000000001";
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly string _ns = Levels.NewNamespace();
    private readonly byte[] _key = Levels.NewKey();

    [RedisTheory]
    [InlineData(-25, null, true)] // the sender's clock 25 s behind the receiver's
    [InlineData(25, null, true)] // ...or ahead
    [InlineData(-35, null, false)]
    [InlineData(35, null, false)]
    [InlineData(-35, 60, true)] // a fleet that allows more skew
    [InlineData(65, 60, false)]
    public async Task A_message_arrives_only_within_MaxClockSkew_of_the_receivers_clock(int senderAheadSeconds, int? maxSkewSeconds, bool arrives)
    {
        Action<RedisL2Options>? configure = maxSkewSeconds is { } skew ? o => o.MaxClockSkew = TimeSpan.FromSeconds(skew) : null;
        await using var sender = await Levels.CreateAsync(server, _ns, _key, configure, new FakeTimeProvider(Start.AddSeconds(senderAheadSeconds)));
        await using var receiver = await Levels.CreateAsync(server, _ns, _key, configure, new FakeTimeProvider(Start));
        await using var fence = await Levels.CreateAsync(server, _ns, _key, configure, new FakeTimeProvider(Start));
        receiver.Backplane.Track(Key);
        var received = RedisBackplaneTests.Collect(receiver)[0];

        Assert.True(await sender.Backplane.PublishAsync(BackplaneKind.Changed, [(Key, Version)]));
        Assert.True(await fence.Backplane.PublishInvalidateAllAsync());

        // Delivery is concurrent: take both, whichever comes first.
        var kinds = new List<BackplaneKind> { (await RedisBackplaneTests.NextAsync(received)).Kind };
        if (arrives)
        {
            kinds.Add((await RedisBackplaneTests.NextAsync(received)).Kind);
        }

        Assert.Equal(arrives ? [BackplaneKind.Changed, BackplaneKind.InvalidatedAll] : [BackplaneKind.InvalidatedAll], kinds.Order());
        Assert.False(received.Reader.TryRead(out _));
    }

    [RedisFact]
    public async Task Messages_from_a_clock_too_far_off_or_of_the_first_format_are_a_warning_at_most_every_five_minutes()
    {
        using var logs = new FakeLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(logs));
        var time = new FakeTimeProvider(Start);
        await using var skewed = await Levels.CreateAsync(server, _ns, _key, time: new FakeTimeProvider(Start.AddMinutes(2)));
        await using var receiver = await Levels.CreateAsync(server, _ns, _key, time: time, loggers: loggers);
        await using var admin = await server.ConnectAdminAsync();
        var firstFormat = new byte[28 + 16]; // format 1 | kind | sender | key id | count | tag: an InvalidatedAll of the first format
        (firstFormat[0], firstFormat[1]) = (1, (byte)BackplaneKind.InvalidatedAll);

        async Task SendBothAsync(int rejectedSoFar)
        {
            for (var i = 0; i < 3; i++)
            {
                Assert.True(await skewed.Backplane.PublishInvalidateAllAsync());
                await admin.GetSubscriber().PublishAsync(receiver.Connection.Names.BackplaneChannel, firstFormat);
            }

            await Wait.UntilAsync(() => logs.Collector.GetSnapshot().Count(r => r.Id.Id == 107) == rejectedSoFar + 6);
        }

        await SendBothAsync(0);
        time.Advance(TimeSpan.FromMinutes(4));
        await SendBothAsync(6); // four minutes on: still quiet
        time.Advance(TimeSpan.FromMinutes(1));
        await SendBothAsync(12);

        var warnings = logs.Collector.GetSnapshot().Where(r => r.Level == LogLevel.Warning).ToArray();
        Assert.Equal(2, warnings.Count(r => r.Id.Id == 112)); // clock skew (or an old message again)
        Assert.Equal(2, warnings.Count(r => r.Id.Id == 114)); // an instance of the earlier build
        Assert.Contains(warnings, r => r.Id.Id == 112 && r.Message.Contains("sent 120 s from", StringComparison.Ordinal));
    }

    [RedisFact]
    public async Task A_flood_of_captured_genuine_messages_delivered_again_is_dropped_whole_and_memory_stays_bounded()
    {
        const int PerSecond = 1_000, Seconds = 10; // 10,000 within the window: more than the guard keeps
        var time = new FakeTimeProvider(Start);
        using var host = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = host.GetRequiredService<IMeterFactory>();
        await using var sender = await Levels.CreateAsync(server, _ns, _key, time: time);
        await using var receiver = await Levels.CreateAsync(server, _ns, _key, time: time, meters: meters);
        using var messages = new MetricCollector<long>(meters, SecretsCacheTelemetry.MeterName, "secretscache.backplane.messages");
        await using var admin = await server.ConnectAdminAsync();
        var captured = Channel.CreateUnbounded<byte[]>();
        await admin.GetSubscriber().SubscribeAsync(sender.Connection.Names.BackplaneChannel, (_, value) => captured.Writer.TryWrite((byte[])value!));
        var delivered = 0;
        receiver.Backplane.Received += (_, _) => Interlocked.Increment(ref delivered);

        for (var second = 0; second < Seconds; second++)
        {
            for (var sent = 0; sent < PerSecond; sent += 100)
            {
                var batch = Enumerable.Range(0, 100).Select(_ => sender.Backplane.PublishInvalidateAllAsync().AsTask());
                Assert.All(await Task.WhenAll(batch), Assert.True);
            }

            await Wait.UntilAsync(() => Volatile.Read(ref delivered) == (second + 1) * PerSecond, seconds: 30);
            Assert.InRange(receiver.Backplane.RememberedMessages, 1, ReplayGuard.Capacity);
            time.Advance(TimeSpan.FromSeconds(1));
        }

        var replays = new List<byte[]>();
        while (replays.Count < Seconds * PerSecond)
        {
            replays.Add(await captured.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20)));
        }

        foreach (var chunk in replays.Chunk(500))
        {
            await Task.WhenAll(chunk.Select(r => admin.GetSubscriber().PublishAsync(sender.Connection.Names.BackplaneChannel, r)));
        }

        await Wait.UntilAsync(() => Rejected(messages) == replays.Count, seconds: 30);
        Assert.Equal(Seconds * PerSecond, Volatile.Read(ref delivered)); // not one replay applied
        Assert.InRange(receiver.Backplane.RememberedMessages, 1, ReplayGuard.Capacity);

        Assert.True(await sender.Backplane.PublishInvalidateAllAsync());
        await Wait.UntilAsync(() => Volatile.Read(ref delivered) == (Seconds * PerSecond) + 1); // a new genuine message still arrives
    }

    private static int Rejected(MetricCollector<long> messages) =>
        messages.GetMeasurementSnapshot().Count(m => (string?)m.Tags["secretscache.backplane.direction"] == "received" && (string?)m.Tags["secretscache.backplane.kind"] == "rejected");
}
