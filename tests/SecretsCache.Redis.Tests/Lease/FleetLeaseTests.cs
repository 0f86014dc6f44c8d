using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using SecretsCache.Redis.Lease;
using SecretsCache.Redis.Tests.Support;
using StackExchange.Redis;

namespace SecretsCache.Redis.Tests.Lease;

[Collection(RedisCollection.Name)]
public sealed class FleetLeaseTests(RedisServer server)
{
    private const string Key = "sm:app/db";
    private readonly string _ns = Levels.NewNamespace();
    private readonly byte[] _key = Levels.NewKey();

    [RedisFact]
    public async Task Of_many_instances_racing_for_one_key_exactly_one_holds_the_lease()
    {
        var fleet = await Levels.FleetAsync(server, 4, _ns, _key);
        try
        {
            for (var round = 0; round < 20; round++)
            {
                var key = Key + "-" + round;
                var attempts = await Task.WhenAll(fleet.SelectMany(level => Enumerable.Range(0, 8).Select(_ => level.Lease.TryAcquireAsync(key).AsTask())));

                Assert.Single(attempts, a => a.Status == LeaseStatus.Acquired);
                Assert.Equal(31, attempts.Count(a => a.Status == LeaseStatus.Held));
            }
        }
        finally
        {
            await Levels.DisposeAllAsync(fleet);
        }
    }

    [RedisFact]
    public async Task Release_deletes_only_the_holders_own_lease()
    {
        await using var a = await Levels.CreateAsync(server, _ns, _key, o => (o.LeaseDuration, o.LeaseWaitTimeout) = (TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(100)));
        await using var b = await Levels.CreateAsync(server, _ns, _key);
        await using var admin = await server.ConnectAdminAsync();
        var (_, first) = await a.Lease.TryAcquireAsync(Key);
        Assert.NotNull(first);

        // a's lease expires while a is still fetching (a paused holder); b takes the key over.
        await WaitUntilExpiredAsync(admin, first.Name);
        var (status, second) = await b.Lease.TryAcquireAsync(Key);
        Assert.Equal(LeaseStatus.Acquired, status);

        Assert.False(await a.Lease.ReleaseAsync(first)); // Compare-and-delete: a's late release leaves b's lease alone.
        Assert.True(await admin.GetDatabase().KeyExistsAsync(second!.Name));
        Assert.True(await b.Lease.ReleaseAsync(second));
        Assert.False(await admin.GetDatabase().KeyExistsAsync(second.Name));
    }

    [RedisFact]
    public async Task A_dead_holders_lease_expires_by_itself()
    {
        var dead = await Levels.CreateAsync(server, _ns, _key, o => (o.LeaseDuration, o.LeaseWaitTimeout) = (TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(100)));
        await using var other = await Levels.CreateAsync(server, _ns, _key);
        await using var admin = await server.ConnectAdminAsync();
        var (_, handle) = await dead.Lease.TryAcquireAsync(Key);
        await dead.DisposeAsync(); // The holder dies without releasing.

        Assert.Equal(LeaseStatus.Held, (await other.Lease.TryAcquireAsync(Key)).Status);
        var ttl = await admin.GetDatabase().KeyTimeToLiveAsync(handle!.Name);
        Assert.InRange(ttl!.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(300));
        await WaitUntilExpiredAsync(admin, handle.Name);

        Assert.Equal(LeaseStatus.Acquired, (await other.Lease.TryAcquireAsync(Key)).Status);
    }

    [RedisFact]
    public async Task A_lease_left_without_an_expiry_is_given_one_so_single_flight_resumes()
    {
        // Someone with write access to Redis (a PERSIST, a restore, a hostile client) leaves a lease key that never expires:
        // without a repair every read of that key would wait out the lease wait and fetch alone, forever.
        await using var level = await Levels.CreateAsync(server, _ns, _key, o => o.LeaseDuration = TimeSpan.FromSeconds(5));
        await using var admin = await server.ConnectAdminAsync();
        var (_, handle) = await level.Lease.TryAcquireAsync(Key);
        Assert.True(await admin.GetDatabase().KeyPersistAsync(handle!.Name));

        Assert.Equal(LeaseStatus.Held, (await level.Lease.TryAcquireAsync(Key)).Status);

        var ttl = await admin.GetDatabase().KeyTimeToLiveAsync(handle.Name);
        Assert.NotNull(ttl); // null: no expiry
        Assert.InRange(ttl.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(5));
    }

    [RedisFact]
    public async Task A_held_lease_keeps_its_own_expiry()
    {
        await using var level = await Levels.CreateAsync(server, _ns, _key, o => o.LeaseDuration = TimeSpan.FromSeconds(30));
        await using var admin = await server.ConnectAdminAsync();
        var (_, handle) = await level.Lease.TryAcquireAsync(Key);
        Assert.True(await admin.GetDatabase().KeyExpireAsync(handle!.Name, TimeSpan.FromSeconds(2)));

        Assert.Equal(LeaseStatus.Held, (await level.Lease.TryAcquireAsync(Key)).Status);

        // Not extended: a holder's lease still ends when it would have, whoever asks for it meanwhile.
        Assert.InRange((await admin.GetDatabase().KeyTimeToLiveAsync(handle.Name))!.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(2));
    }

    /// <summary>
    /// An acquisition Redis did not answer in time may still have taken the lease (a busy process reads replies late). Given
    /// up as "unavailable", the instance fetched without it, and the lease, held by nobody who knew, kept every other instance
    /// waiting its whole bound: in the fleet benchmark's deploy at 500 x 50, 932 such timeouts sent 27,135 keys to AWS. While
    /// Redis is up and the breaker closed, the instance asks once more with the same token, and an answer "it is yours" holds.
    /// </summary>
    [RedisFact]
    public async Task An_acquisition_not_answered_in_time_is_asked_again_with_its_token_and_a_lease_it_took_is_held()
    {
        var time = new SignallingTimeProvider();
        await using var level = await Levels.CreateAsync(server, _ns, _key, time: time);
        await using var admin = await server.ConnectAdminAsync();
        using var errors = new MetricCollector<long>(level.Connection.Metrics.Errors);
        var sent = time.WhenTimerCreated(level.Connection.Options.OperationTimeout);

        // Writes (scripts among them) wait until the pause ends, which this test decides.
        await admin.GetServers()[0].ExecuteAsync("CLIENT", "PAUSE", "60000", "WRITE");
        ValueTask<(LeaseStatus, LeaseHandle?)> acquiring;
        try
        {
            acquiring = level.Lease.TryAcquireAsync(Key);
            await sent.WaitAsync(TimeSpan.FromSeconds(30));
            time.Advance(level.Connection.Options.OperationTimeout);
            await Wait.UntilAsync(() => errors.GetMeasurementSnapshot().Count == 1);
        }
        finally
        {
            await admin.GetServers()[0].ExecuteAsync("CLIENT", "UNPAUSE");
        }

        var (status, handle) = await acquiring.AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(LeaseStatus.Acquired, status);
        Assert.True(await level.Lease.ReleaseAsync(handle!)); // the lease in Redis is this handle's
        Assert.Equal("TimeoutException", Assert.Single(errors.GetMeasurementSnapshot()).Tags["error.type"]);
    }

    /// <summary>Waits for Redis's own "expired" event of <paramref name="name"/> (keyspace notifications), or sees it already gone.</summary>
    internal static async Task WaitUntilExpiredAsync(ConnectionMultiplexer admin, RedisKey name)
    {
        await admin.GetServers()[0].ConfigSetAsync("notify-keyspace-events", "Ex");
        var expired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var channel = RedisChannel.Literal("__keyevent@0__:expired");
        await admin.GetSubscriber().SubscribeAsync(channel, (_, key) =>
        {
            if (key == name.ToString())
            {
                expired.TrySetResult();
            }
        });
        try
        {
            if (await admin.GetDatabase().KeyExistsAsync(name))
            {
                await expired.Task.WaitAsync(TimeSpan.FromSeconds(20));
            }
        }
        finally
        {
            await admin.GetSubscriber().UnsubscribeAsync(channel);
        }
    }
}
