using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using SecretsCache.Redis.Encryption;
using SecretsCache.Redis.Lease;
using SecretsCache.Redis.Tests.Support;

namespace SecretsCache.Redis.Tests.Lease;

/// <summary>
/// A waiter does not only wake up on a lease result: "failed" (or "fetched" with no entry yet) sends it to AWS. So a result
/// that anyone who can publish on the channel forges, or a genuine one captured and published again, must not end a wait.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class LeaseResultTrustTests(RedisServer server)
{
    private const string Key = "sm:app/db";
    private const string Version = "version-1-000000000000000000000000";
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);
    private readonly string _ns = Levels.NewNamespace();
    private readonly byte[] _key = Levels.NewKey();
    private readonly SignallingTimeProvider _time = new();

    private static void LongWaits(RedisL2Options o)
    {
        // Only a result can end a wait within the test (and the clock is fake anyway).
        o.LeaseDuration = TimeSpan.FromMinutes(10);
        o.LeaseWaitTimeout = TimeSpan.FromMinutes(5);
    }

    [RedisFact]
    public async Task A_forged_or_replayed_failure_does_not_end_a_wait_and_the_holders_genuine_result_does()
    {
        using var logs = new FakeLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(logs));
        await using var holder = await Levels.CreateAsync(server, _ns, _key, LongWaits, _time);
        await using var waiter = await Levels.CreateAsync(server, _ns, _key, LongWaits, _time, loggers: loggers);
        await using var admin = await server.ConnectAdminAsync();
        var channel = holder.Connection.Names.LeaseResultChannel;
        var captured = Channel.CreateUnbounded<byte[]>();
        await admin.GetSubscriber().SubscribeAsync(channel, (_, value) => captured.Writer.TryWrite((byte[])value!));

        // A genuine failure, captured on the way.
        var (status, first) = await holder.Lease.TryAcquireAsync(Key);
        Assert.Equal(LeaseStatus.Acquired, status);
        await holder.SingleFlight.FinishAsync(first!, written: false);
        var genuineFailure = await captured.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));

        // The lease is held again, by a holder still fetching; a waiter waits for it.
        (status, var second) = await holder.Lease.TryAcquireAsync(Key);
        Assert.Equal(LeaseStatus.Acquired, status);
        var fetches = 0;
        var call = waiter.SingleFlight.GetOrFetchAsync(Key, Ttl, _ =>
        {
            Interlocked.Increment(ref fetches);
            return ValueTask.FromResult(Levels.Secret("app/db", "fetched-by-waiter", Version, _time.GetUtcNow()));
        }).AsTask();
        await WaitForAsync(() => waiter.LeaseResults.Waiting == 1);

        // The key's hash is no secret: it names the lease in Redis (sc:{ns}:l:{hash}).
        var hash = RedisNames.Hash(holder.Connection.Keys.Ring!.Current, Key);
        byte[][] hostile =
        [
            genuineFailure, // replayed
            [1, (byte)LeaseOutcome.Failed, .. hash], // the first format: no tag at all
            [1, (byte)LeaseOutcome.Fetched, .. hash],
            Forge(genuineFailure, hash), // the current format with a made-up tag
        ];
        foreach (var message in hostile)
        {
            await admin.GetSubscriber().PublishAsync(channel, message);
        }

        await WaitForAsync(() => call.IsCompleted || Rejections(logs) >= hostile.Length);
        Assert.Equal(0, Volatile.Read(ref fetches));
        Assert.False(call.IsCompleted);

        Assert.True(await holder.Store.WriteAsync(Key, Levels.Secret("app/db", "fetched-by-holder", Version, _time.GetUtcNow()), Ttl));
        await holder.SingleFlight.FinishAsync(second!, written: true);

        var read = await call.WaitAsync(TimeSpan.FromSeconds(30)); // the fake clock never moved: the genuine result ended the wait
        Assert.Equal(FleetSource.SecondLevel, read.Source);
        Assert.Equal("fetched-by-holder", read.Entry.Secret.GetString());
        Assert.Equal(0, Volatile.Read(ref fetches));
    }

    /// <summary>A message shaped like <paramref name="genuine"/> but for <paramref name="hash"/>, with "failed" and its last 16 bytes (the tag) made up.</summary>
    private static byte[] Forge(byte[] genuine, byte[] hash)
    {
        var forged = (byte[])genuine.Clone();
        forged[1] = (byte)LeaseOutcome.Failed;
        hash.CopyTo(forged.AsSpan(Math.Max(2, forged.Length - 16 - hash.Length)));
        forged[^1] ^= 0x5a;
        return forged;
    }

    private static int Rejections(FakeLoggerProvider logs) =>
        logs.Collector.GetSnapshot().Count(r => r.Id.Id == 107 && r.Message.Contains("lease result", StringComparison.Ordinal));

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 3_000 && !condition(); i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System);
        }

        Assert.True(condition(), "The condition did not hold within about 15 s.");
    }
}
