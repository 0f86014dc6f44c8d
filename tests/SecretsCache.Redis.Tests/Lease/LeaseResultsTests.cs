using SecretsCache.Redis.Encryption;
using SecretsCache.Redis.Lease;
using SecretsCache.Redis.Tests.Support;

namespace SecretsCache.Redis.Tests.Lease;

/// <summary>
/// A waiter registers for its holder's result only after Redis told it the lease is held, and its look at the second level
/// that follows may not be answered (a busy moment: the fleet benchmark's deploy saw every such wait run out its whole bound,
/// 17,640 of them, for results that had already come). So a result that arrived after the waiter asked for the lease ends
/// a wait registered later at once; one from before it asked does not (the holder it was told of is another).
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class LeaseResultsTests(RedisServer server)
{
    private const string Key = "sm:app/db";
    private readonly string _ns = Levels.NewNamespace();
    private readonly byte[] _key = Levels.NewKey();
    private readonly SignallingTimeProvider _time = new();

    [RedisTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_result_that_came_after_the_waiter_asked_for_the_lease_ends_a_wait_registered_later_at_once(bool written)
    {
        await using var holder = await Levels.CreateAsync(server, _ns, _key, FleetSingleFlightTests.LongWaits, _time);
        await using var waiter = await Levels.CreateAsync(server, _ns, _key, FleetSingleFlightTests.LongWaits, _time);
        var (status, handle) = await holder.Lease.TryAcquireAsync(Key);
        Assert.Equal(LeaseStatus.Acquired, status);
        var hash = RedisNames.Hash(waiter.Connection.Keys.Ring!.Current, Key);
        var asked = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromMilliseconds(1));

        // A wait registered in time shows when the result has reached the waiter.
        using (var early = waiter.LeaseResults.Register(hash, asked))
        {
            await holder.SingleFlight.FinishAsync(handle!, written);
            Assert.Equal(Expected(written), await early.WaitAsync(TimeSpan.FromMinutes(5), _time, default).AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
        }

        using var late = waiter.LeaseResults.Register(hash, asked);
        Assert.Equal(Expected(written), await late.WaitAsync(TimeSpan.Zero, _time, default));

        _time.Advance(TimeSpan.FromMilliseconds(1));
        using var askedAfter = waiter.LeaseResults.Register(hash, _time.GetTimestamp());
        Assert.Equal(LeaseOutcome.TimedOut, await askedAfter.WaitAsync(TimeSpan.Zero, _time, default));
    }

    [RedisFact]
    public async Task The_results_of_a_warm_ups_keys_travel_in_one_message_and_end_every_wait()
    {
        // Every subscriber of the fleet opens every message: one per key made a holder of 50 keys cost a 500-instance fleet
        // 25,000 messages to open at the moment its waiters were to wake.
        await using var holder = await Levels.CreateAsync(server, _ns, _key, FleetSingleFlightTests.LongWaits, _time);
        await using var waiter = await Levels.CreateAsync(server, _ns, _key, FleetSingleFlightTests.LongWaits, _time);
        var keys = Enumerable.Range(0, 50).Select(i => $"sm:app/s{i}").ToArray();
        var leases = await holder.Lease.TryAcquireManyAsync(keys);
        var asked = _time.GetTimestamp();
        var waits = keys.Select(k => waiter.LeaseResults.Register(RedisNames.Hash(waiter.Connection.Keys.Ring!.Current, k), asked)).ToArray();
        try
        {
            var before = holder.Connection.Multiplexer.GetCounters().Subscription.OperationCount + holder.Connection.Multiplexer.GetCounters().Interactive.OperationCount;
            await holder.SingleFlight.FinishManyAsync([.. leases.Take(40).Select(l => (l.Handle!, true)), .. leases.Skip(40).Select(l => (l.Handle!, false))]);
            var outcomes = await Task.WhenAll(waits.Select(w => w.WaitAsync(TimeSpan.FromMinutes(5), _time, default).AsTask())).WaitAsync(TimeSpan.FromSeconds(30));
            var sent = holder.Connection.Multiplexer.GetCounters().Subscription.OperationCount + holder.Connection.Multiplexer.GetCounters().Interactive.OperationCount - before;

            Assert.Equal([.. Enumerable.Repeat(LeaseOutcome.Fetched, 40), .. Enumerable.Repeat(LeaseOutcome.Failed, 10)], outcomes);
            Assert.InRange(sent, 3, 4); // two messages (one per outcome) and one release (an EVAL before it on a new server)
        }
        finally
        {
            foreach (var wait in waits)
            {
                wait.Dispose();
            }
        }
    }

    [RedisFact]
    public async Task A_result_is_remembered_for_one_lease_duration_and_no_more_than_a_bounded_number_of_keys()
    {
        await using var holder = await Levels.CreateAsync(server, _ns, _key, FleetSingleFlightTests.LongWaits, _time);
        await using var waiter = await Levels.CreateAsync(server, _ns, _key, FleetSingleFlightTests.LongWaits, _time);
        var asked = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var hashes = Enumerable.Range(0, LeaseResults.RecentCapacity + 1).Select(i => RedisNames.Hash(waiter.Connection.Keys.Ring!.Current, $"sm:app/s{i}")).ToArray();

        // Redis delivers a connection's messages concurrently: wait for every one, in whatever order they come.
        var waits = hashes.Select(h => waiter.LeaseResults.Register(h, asked)).ToArray();
        try
        {
            Assert.True(await holder.LeaseResults.PublishManyAsync([.. hashes.Select(h => (h, LeaseOutcome.Fetched))]));
            var outcomes = await LeaseWait.WaitAllAsync(waits, TimeSpan.FromMinutes(5), _time, default).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.All(outcomes, o => Assert.Equal(LeaseOutcome.Fetched, o));
        }
        finally
        {
            foreach (var wait in waits)
            {
                wait.Dispose();
            }
        }

        Assert.Equal(LeaseResults.RecentCapacity, waiter.LeaseResults.Remembered);
        var remembered = new List<byte[]>();
        foreach (var hash in hashes)
        {
            using var late = waiter.LeaseResults.Register(hash, asked);
            if (await late.WaitAsync(TimeSpan.Zero, _time, default) == LeaseOutcome.Fetched)
            {
                remembered.Add(hash);
            }
        }

        Assert.Equal(LeaseResults.RecentCapacity, remembered.Count); // one forgotten, to stay within the bound

        _time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromMilliseconds(1));
        using var afterTheLease = waiter.LeaseResults.Register(remembered[0], asked);
        Assert.Equal(LeaseOutcome.TimedOut, await afterTheLease.WaitAsync(TimeSpan.Zero, _time, default));
        Assert.Equal(0, waiter.LeaseResults.Remembered);
    }

    private static LeaseOutcome Expected(bool written) => written ? LeaseOutcome.Fetched : LeaseOutcome.Failed;
}
