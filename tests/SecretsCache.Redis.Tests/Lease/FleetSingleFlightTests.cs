using SecretsCache.Redis.Lease;
using SecretsCache.Redis.Tests.Support;

namespace SecretsCache.Redis.Tests.Lease;

[Collection(RedisCollection.Name)]
public sealed class FleetSingleFlightTests(RedisServer server)
{
    private const string Key = "sm:app/db";
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);
    private readonly string _ns = Levels.NewNamespace();
    private readonly byte[] _key = Levels.NewKey();
    private readonly SignallingTimeProvider _time = new();

    private static void LongWaits(RedisL2Options o)
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
            await WaitForAsync(() => fleet.Sum(l => l.LeaseResults.Waiting) == calls.Length - 1);
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

    [RedisFact]
    public async Task When_the_holders_fetch_fails_it_sees_the_error_and_the_waiters_fetch_themselves_at_once()
    {
        await using var holder = await Levels.CreateAsync(server, _ns, _key, LongWaits, _time);
        await using var waiter = await Levels.CreateAsync(server, _ns, _key, LongWaits, _time);
        var failing = new TaskCompletionSource<Secret>(TaskCreationOptions.RunContinuationsAsynchronously);
        var holderCall = holder.SingleFlight.GetOrFetchAsync(Key, Ttl, t => new ValueTask<Secret>(failing.Task.WaitAsync(t))).AsTask();
        await using var admin = await server.ConnectAdminAsync();
        var leaseName = holder.Connection.Names.Lease(SecretsCache.Redis.Encryption.RedisNames.Hash(holder.Connection.Keys.Ring!.Current, Key));
        await WaitForAsync(() => admin.GetDatabase().KeyExistsAsync(leaseName));
        var waiterCall = waiter.SingleFlight.GetOrFetchAsync(Key, Ttl, _ => ValueTask.FromResult(Levels.Secret("app/db", "own", "version-1-000000000000000000000000", _time.GetUtcNow()))).AsTask();
        await WaitForAsync(() => waiter.LeaseResults.Waiting == 1);

        failing.SetException(new SecretThrottledException("throttled", "app/db"));

        await Assert.ThrowsAsync<SecretThrottledException>(() => holderCall.WaitAsync(TimeSpan.FromSeconds(30)));
        var read = await waiterCall.WaitAsync(TimeSpan.FromSeconds(30)); // The fake clock never moved: the message ended the wait.
        Assert.Equal("own", read.Entry.Secret.GetString());
        Assert.Equal(FleetSource.Aws, read.Source);
        Assert.Equal(LeaseStatus.Acquired, (await holder.Lease.TryAcquireAsync(Key)).Status); // Released at once, not at expiry.
    }

    /// <summary>A bounded wait for a condition the code under test reaches asynchronously (a registration, a lease).</summary>
    private static Task WaitForAsync(Func<bool> condition) => WaitForAsync(() => Task.FromResult(condition()));

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 3_000; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Yield();
            await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System);
        }

        throw new TimeoutException("The condition did not hold within about 15 s.");
    }
}
