using System.Threading.Channels;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using SecretsCache.Redis.Encryption;
using SecretsCache.Redis.Lease;
using SecretsCache.Redis.Tests.Support;

namespace SecretsCache.Redis.Tests.Lease;

[Collection(RedisCollection.Name)]
public sealed class FleetSingleFlightTests(RedisServer server)
{
    private const string Key = "sm:app/db";
    private const string Version = "version-1-000000000000000000000000";
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);
    private readonly string _ns = Levels.NewNamespace();
    private readonly byte[] _key = Levels.NewKey();
    private readonly SignallingTimeProvider _time = new();

    internal static void LongWaits(RedisL2Options o)
    {
        // The wait bound is far beyond the test: only the holder's message can end a wait in time (the clock is fake anyway).
        o.LeaseDuration = TimeSpan.FromMinutes(10);
        o.LeaseWaitTimeout = TimeSpan.FromMinutes(5);
    }

    [RedisFact]
    public async Task A_fleet_of_callers_on_one_missing_key_fetches_it_from_AWS_once()
    {
        var fleet = await Levels.FleetAsync(server, 4, _ns, _key, LongWaits, _time);
        try
        {
            var fetches = 0;
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            async ValueTask<Secret> FetchAsync(CancellationToken token)
            {
                Interlocked.Increment(ref fetches);
                await release.Task.WaitAsync(token);
                return Levels.Secret("app/db", "the-value", "version-1-000000000000000000000000", _time.GetUtcNow());
            }

            var calls = fleet.SelectMany(level => Enumerable.Range(0, 8).Select(_ => level.SingleFlight.GetOrFetchAsync(Key, Ttl, FetchAsync).AsTask())).ToArray();
            // Every caller that is not the holder registers its wait; only then does the holder's fetch finish.
            await Wait.UntilAsync(() => fleet.Sum(l => l.LeaseResults.Waiting) == calls.Length - 1);
            release.SetResult();
            var reads = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30));

            Assert.Equal(1, fetches);
            Assert.All(reads, r => Assert.Equal("the-value", r.Entry.Secret.GetString()));
            Assert.Single(reads, r => r.Source == FleetSource.Aws);
            Assert.Equal(calls.Length - 1, reads.Count(r => r.Source == FleetSource.SecondLevel));
            Assert.All(reads, r => Assert.Equal(_time.GetUtcNow() + Ttl, r.Entry.ExpiresAt));
        }
        finally
        {
            await Levels.DisposeAllAsync(fleet);
        }
    }

    [RedisFact]
    public async Task A_second_level_hit_calls_no_fetch()
    {
        await using var level = await Levels.CreateAsync(server, _ns, _key, time: _time);
        await level.Store.WriteAsync(Key, Levels.Secret("app/db", "cached", "version-1-000000000000000000000000", _time.GetUtcNow()), Ttl);

        var read = await level.SingleFlight.GetOrFetchAsync(Key, Ttl, _ => throw new InvalidOperationException("no fetch expected"));

        Assert.Equal(FleetSource.SecondLevel, read.Source);
        Assert.Equal("cached", read.Entry.Secret.GetString());
    }

    [RedisFact]
    public async Task When_the_holder_dies_the_waiter_waits_only_its_bound_then_fetches_itself()
    {
        await using var holder = await Levels.CreateAsync(server, _ns, _key, LongWaits, _time);
        await using var waiter = await Levels.CreateAsync(server, _ns, _key, LongWaits, _time);
        Assert.Equal(LeaseStatus.Acquired, (await holder.Lease.TryAcquireAsync(Key)).Status); // ...and never publishes.
        var waiting = _time.WhenTimerCreated(TimeSpan.FromMinutes(5));
        var fetches = 0;

        var call = waiter.SingleFlight.GetOrFetchAsync(Key, Ttl, _ =>
        {
            Interlocked.Increment(ref fetches);
            return ValueTask.FromResult(Levels.Secret("app/db", "fetched-by-waiter", "version-1-000000000000000000000000", _time.GetUtcNow()));
        }).AsTask();
        await waiting.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(call.IsCompleted);
        Assert.Equal(0, fetches);
        _time.Advance(TimeSpan.FromMinutes(5));
        var read = await call.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, fetches);
        Assert.Equal(FleetSource.Aws, read.Source);
        Assert.Equal("fetched-by-waiter", read.Entry.Secret.GetString());
        Assert.True((await holder.Store.ReadAsync(Key)).IsHit); // The waiter wrote the second level for the rest of the fleet.
    }

    /// <summary>
    /// A holder that outlasts <see cref="RedisL2Options.LeaseWaitTimeout"/> is most often queued in the fleet's rate limit,
    /// which serves in order: a waiter that gave up would queue behind it. In the fleet benchmark's deploy at 500 x 50, 11,000
    /// to 19,000 waits ran out so, and their fetches, 5 parameters per instance, queued in Parameter Store's 40 a second until
    /// thousands of cold reads timed out. So the holder says it is still fetching, and its waiters wait on.
    /// </summary>
    [RedisFact]
    public async Task A_waiter_whose_holder_says_it_is_still_fetching_waits_past_its_bound_and_takes_the_holders_value()
    {
        static void Waits(RedisL2Options o) => (o.LeaseDuration, o.LeaseWaitTimeout) = (TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(2));
        await using var holder = await Levels.CreateAsync(server, _ns, _key, Waits, _time);
        await using var waiter = await Levels.CreateAsync(server, _ns, _key, Waits, _time);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var beating = _time.WhenTimerCreated(TimeSpan.FromSeconds(1));
        var holderCall = holder.SingleFlight.GetOrFetchAsync(Key, Ttl, async t =>
        {
            await release.Task.WaitAsync(t);
            return Levels.Secret("app/db", "fetched-by-holder", Version, _time.GetUtcNow());
        }).AsTask();
        await beating.WaitAsync(TimeSpan.FromSeconds(30));
        var waiting = _time.WhenTimerCreated(TimeSpan.FromSeconds(2));
        var fetches = 0;
        var waiterCall = waiter.SingleFlight.GetOrFetchAsync(Key, Ttl, _ =>
        {
            Interlocked.Increment(ref fetches);
            return ValueTask.FromResult(Levels.Secret("app/db", "fetched-by-waiter", Version, _time.GetUtcNow()));
        }).AsTask();
        await waiting.WaitAsync(TimeSpan.FromSeconds(30));

        for (var beat = 1; beat <= 6; beat++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await Wait.UntilAsync(() => waiter.LeaseResults.ProgressHeard >= beat);
        }

        Assert.False(waiterCall.IsCompleted); // three bounds on
        Assert.Equal(0, Volatile.Read(ref fetches));
        release.SetResult();
        var read = await waiterCall.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(FleetSource.SecondLevel, read.Source);
        Assert.Equal("fetched-by-holder", read.Entry.Secret.GetString());
        Assert.Equal(0, Volatile.Read(ref fetches));
        Assert.Equal(FleetSource.Aws, (await holderCall.WaitAsync(TimeSpan.FromSeconds(30))).Source);

        // Once the holder is done it says nothing more.
        var heard = waiter.LeaseResults.ProgressHeard;
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(heard, waiter.LeaseResults.ProgressHeard);
    }

    /// <summary>
    /// A holder said it wrote the entry, and the waiter's read of it went unanswered (a busy moment): that read is asked once
    /// more (the breaker closed), instead of fetching from AWS what the L2 holds. In the fleet benchmark's deploy at 500 x 50,
    /// 26,305 waits woke on a result and only 12,315 reads found the entry; the rest went to AWS, 13,007 GetSecretValue.
    /// </summary>
    [RedisFact]
    public async Task A_waiter_whose_read_after_the_holders_result_goes_unanswered_reads_once_more_rather_than_fetch()
    {
        static void Waits(RedisL2Options o)
        {
            LongWaits(o);
            o.CircuitBreaker.MinimumThroughput = 100; // the breaker stays closed: this is about a busy moment, not a failing Redis
        }

        await using var holder = await Levels.CreateAsync(server, _ns, _key, Waits, _time);
        await using var waiter = await Levels.CreateAsync(server, _ns, _key, Waits, _time);
        await using var admin = await server.ConnectAdminAsync();
        using var errors = new MetricCollector<long>(waiter.Connection.Metrics.Errors);
        var (_, handle) = await holder.Lease.TryAcquireAsync(Key);
        var hash = RedisNames.Hash(waiter.Connection.Keys.Ring!.Current, Key);
        var asked = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromMilliseconds(1));
        using (var early = waiter.LeaseResults.Register(hash, asked))
        {
            Assert.True(await holder.Store.WriteAsync(Key, Levels.Secret("app/db", "fetched-by-holder", Version, _time.GetUtcNow()), Ttl));
            await holder.SingleFlight.FinishAsync(handle!, written: true);
            Assert.Equal(LeaseOutcome.Fetched, await early.WaitAsync(TimeSpan.FromMinutes(5), _time, default).AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
        }

        // Redis answers nobody for a while (the pause ends by itself); on the fake clock, the waiter's reads time out when
        // the test says: its first two, not the third.
        await admin.GetServers()[0].ExecuteAsync("CLIENT", "PAUSE", "3000", "ALL");
        int ReadErrors() => errors.GetMeasurementSnapshot().Count(m => (string?)m.Tags["secretscache.l2.operation"] == "l2_read");
        L2Entry? entry;
        try
        {
            var waited = waiter.SingleFlight.WaitForHolderAsync(Key, accept: null, asked, default).AsTask();
            await Wait.UntilAsync(() =>
            {
                if (ReadErrors() < 2)
                {
                    _time.Advance(waiter.Connection.Options.OperationTimeout);
                }

                return ReadErrors() >= 2 || waited.IsCompleted;
            });

            entry = await waited.WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            // Runs once the pause is over (this client is paused too), so the pause never reaches the next test.
            await admin.GetServers()[0].ExecuteAsync("CLIENT", "UNPAUSE");
        }

        Assert.NotNull(entry);
        Assert.Equal("fetched-by-holder", entry.Secret.GetString());
        Assert.Equal(2, ReadErrors());
    }

    [RedisFact]
    public async Task When_the_holders_fetch_fails_it_sees_the_error_and_the_waiters_fetch_themselves_at_once()
    {
        await using var holder = await Levels.CreateAsync(server, _ns, _key, LongWaits, _time);
        await using var waiter = await Levels.CreateAsync(server, _ns, _key, LongWaits, _time);
        var failing = new TaskCompletionSource<Secret>(TaskCreationOptions.RunContinuationsAsynchronously);
        var holderCall = holder.SingleFlight.GetOrFetchAsync(Key, Ttl, t => new ValueTask<Secret>(failing.Task.WaitAsync(t))).AsTask();
        await using var admin = await server.ConnectAdminAsync();
        var leaseName = holder.Connection.Names.Lease(SecretsCache.Redis.Encryption.RedisNames.Hash(holder.Connection.Keys.Ring!.Current, Key));
        await Wait.UntilAsync(() => admin.GetDatabase().KeyExistsAsync(leaseName));
        var waiterCall = waiter.SingleFlight.GetOrFetchAsync(Key, Ttl, _ => ValueTask.FromResult(Levels.Secret("app/db", "own", "version-1-000000000000000000000000", _time.GetUtcNow()))).AsTask();
        await Wait.UntilAsync(() => waiter.LeaseResults.Waiting == 1);

        failing.SetException(new SecretThrottledException("throttled", "app/db"));

        await Assert.ThrowsAsync<SecretThrottledException>(() => holderCall.WaitAsync(TimeSpan.FromSeconds(30)));
        var read = await waiterCall.WaitAsync(TimeSpan.FromSeconds(30)); // The fake clock never moved: the message ended the wait.
        Assert.Equal("own", read.Entry.Secret.GetString());
        Assert.Equal(FleetSource.Aws, read.Source);
        Assert.Equal(LeaseStatus.Acquired, (await holder.Lease.TryAcquireAsync(Key)).Status); // Released at once, not at expiry.
    }

    /// <summary>
    /// A waiter does not only wake up on a lease result: "failed" (or "fetched" with no entry yet) sends it to AWS. So a result
    /// that anyone who can publish on the channel forges, or a genuine one captured and published again, must not end a wait.
    /// </summary>
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
        await Wait.UntilAsync(() => waiter.LeaseResults.Waiting == 1);

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

        await Wait.UntilAsync(() => call.IsCompleted || Rejections(logs) >= hostile.Length);
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
}
