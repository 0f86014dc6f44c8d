using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using SecretsCache.Redis.Encryption;
using SecretsCache.Redis.Lease;
using SecretsCache.Redis.Tests.Support;

namespace SecretsCache.Redis.Tests.Lease;

/// <summary>
/// The fleet-wide single-flight over many keys at once (a wave of refresh-aheads): each key still fetched once across the
/// fleet, each key's error its own, each Redis step one command for the lot. A single key's miss is the same path with one
/// key: its read and lease are one script on a single server.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class ManyKeySingleFlightTests(RedisServer server)
{
    private const int Keys = 40;
    private const string Version = "version-1-000000000000000000000000";
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);
    private static readonly string[] KeyNames = [.. Enumerable.Range(0, Keys).Select(i => $"sm:app/s{i:D2}")];
    private readonly string _ns = Levels.NewNamespace();
    private readonly byte[] _key = Levels.NewKey();
    private readonly SignallingTimeProvider _time = new();

    [RedisFact]
    public async Task Three_instances_on_forty_missing_keys_fetch_each_once_wait_for_a_fourths_and_a_failing_key_fails_alone()
    {
        var fleet = await Levels.FleetAsync(server, 3, _ns, _key, FleetSingleFlightTests.LongWaits, _time);
        await using var other = await Levels.CreateAsync(server, _ns, _key, FleetSingleFlightTests.LongWaits, _time);
        try
        {
            // A fourth instance holds the last ten keys: every instance holds some keys of its call and waits for others.
            var othersLeases = await other.Lease.TryAcquireManyAsync(KeyNames[30..]);
            Assert.All(othersLeases, l => Assert.Equal(LeaseStatus.Acquired, l.Status));
            var fetches = new int[Keys];
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            FleetFetch[] Fetches() => [.. KeyNames.Select((key, i) => new FleetFetch(key, Ttl, async token =>
            {
                Interlocked.Increment(ref fetches[i]);
                await release.Task.WaitAsync(token);
                return i == 7 ? throw new InvalidOperationException("key seven fails") : Levels.Secret(key[3..], $"value-{i}", Version, _time.GetUtcNow());
            }, null, CancellationToken.None))];

            var calls = fleet.Select(level => level.SingleFlight.GetOrFetchManyAsync(Fetches(), CancellationToken.None).AsTask()).ToArray();
            // Each of the first thirty keys has one holder and two waiters, the last ten three waiters, before any fetch ends.
            await Wait.UntilAsync(() => fleet.Sum(l => l.LeaseResults.Waiting) == (2 * 30) + (3 * 10));
            release.SetResult();
            Assert.All(await other.Store.WriteManyAsync([.. KeyNames[30..].Select((k, n) => (k, Levels.Secret(k[3..], $"value-{30 + n}", Version, _time.GetUtcNow()), Ttl))]), Assert.True);
            await other.SingleFlight.FinishManyAsync([.. othersLeases.Select(l => (l.Handle!, true))]);
            var outcomes = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30));

            for (var i = 0; i < Keys; i++)
            {
                var key = outcomes.Select(o => o[i]).ToArray();
                if (i >= 30)
                {
                    Assert.Equal(0, fetches[i]);
                    Assert.All(key, o => Assert.Equal(($"value-{i}", FleetSource.SecondLevel), (o.GetOrThrow().Entry.Secret.GetString(), o.Read!.Source)));
                    continue;
                }

                if (i == 7)
                {
                    Assert.All(key, o => Assert.Equal("key seven fails", Assert.Throws<InvalidOperationException>(() => o.GetOrThrow()).Message));
                    Assert.Equal(3, fetches[i]); // the holder failed: each waiter was told so at once, and tried itself
                    continue;
                }

                Assert.Equal(1, fetches[i]);
                Assert.All(key, o => Assert.Equal($"value-{i}", o.GetOrThrow().Entry.Secret.GetString()));
                Assert.Single(key, o => o.Read!.Source == FleetSource.Aws);
            }

            Assert.All(fleet, l => Assert.Equal(0, l.LeaseResults.Waiting));
        }
        finally
        {
            await Levels.DisposeAllAsync(fleet);
        }
    }

    [RedisFact]
    public async Task Each_key_takes_only_the_entries_its_own_test_accepts()
    {
        await using var level = await Levels.CreateAsync(server, _ns, _key, time: _time);
        var old = _time.GetUtcNow() - TimeSpan.FromMinutes(1);
        Assert.All(await level.Store.WriteManyAsync([.. KeyNames.Select((k, i) => (k, Levels.Secret(k[3..], $"held-{i}", Version, old), Ttl))]), Assert.True);

        // The even keys want an entry newer than the one they hold (a refresh-ahead); the odd ones take any.
        var fetches = KeyNames.Select((key, i) => new FleetFetch(
            key, Ttl, _ => ValueTask.FromResult(Levels.Secret(key[3..], $"fresh-{i}", Version, _time.GetUtcNow())),
            i % 2 == 0 ? e => e.FetchedAt > old : null, CancellationToken.None)).ToArray();
        var outcomes = await level.SingleFlight.GetOrFetchManyAsync(fetches, CancellationToken.None);

        Assert.Equal([.. Enumerable.Range(0, Keys).Select(i => i % 2 == 0 ? $"fresh-{i}" : $"held-{i}")], outcomes.Select(o => o.GetOrThrow().Entry.Secret.GetString()));
        Assert.Equal([.. Enumerable.Range(0, Keys).Select(i => i % 2 == 0 ? FleetSource.Aws : FleetSource.SecondLevel)], outcomes.Select(o => o.Read!.Source));
        var reread = await level.Store.ReadManyAsync(KeyNames);
        Assert.Equal([.. Enumerable.Range(0, Keys).Select(i => i % 2 == 0 ? $"fresh-{i}" : $"held-{i}")], reread.Select(r => r.Entry!.Secret.GetString()));
    }

    [RedisFact]
    public async Task On_one_server_a_miss_reads_and_takes_its_lease_in_one_command_for_one_key_or_forty()
    {
        await using var level = await Levels.CreateAsync(server, _ns, _key, time: _time);
        await level.SingleFlight.GetOrFetchAsync("sm:app/first", Ttl, _ => ValueTask.FromResult(Levels.Secret("app/first", "x", Version, _time.GetUtcNow()))); // scripts loaded

        var one = await Levels.CommandsAsync(level, () => level.SingleFlight.GetOrFetchAsync(
            "sm:app/one", Ttl, _ => ValueTask.FromResult(Levels.Secret("app/one", "one", Version, _time.GetUtcNow()))).AsTask());
        var firstStep = -1L;
        var started = level.Connection.Multiplexer.GetCounters().Interactive.OperationCount;
        var forty = await Levels.CommandsAsync(level, () => level.SingleFlight.GetOrFetchManyAsync(
            [.. KeyNames.Select(k => new FleetFetch(k, Ttl, _ => ValueTask.FromResult(Levels.Secret(k[3..], "v-" + k, Version, _time.GetUtcNow())), null, CancellationToken.None))],
            CancellationToken.None,
            stepsDone: () => firstStep = level.Connection.Multiplexer.GetCounters().Interactive.OperationCount - started).AsTask());

        Assert.Equal(FleetSource.Aws, one.Value.Source);
        Assert.All(forty.Value, o => Assert.Equal(FleetSource.Aws, o.Read!.Source));
        // Read and lease, write, the result, the release: four commands (before, a read, a lease and a second read came first).
        Assert.Equal(4, one.Commands);
        // Forty keys: the same one command for the read and the leases. The holder then writes, announces and releases in
        // steps as its fetches end, three commands a step: one step when they all end together, more when a step starts
        // before the last has ended (seen under a loaded CI: 7 commands, two steps).
        Assert.Equal(1, firstStep);
        Assert.Equal(0, (forty.Commands - 1) % 3);
        Assert.InRange(forty.Commands, 4, 1 + (3 * Keys));
    }

    [RedisFact]
    public async Task A_waiter_told_by_the_read_and_lease_script_that_the_lease_is_held_waits_without_reading_again_first()
    {
        await using var holder = await Levels.CreateAsync(server, _ns, _key, FleetSingleFlightTests.LongWaits, _time);
        await using var waiter = await Levels.CreateAsync(server, _ns, _key, FleetSingleFlightTests.LongWaits, _time);
        const string key = "sm:app/held";
        var lease = await holder.Lease.TryAcquireAsync(key);
        Assert.Equal(LeaseStatus.Acquired, lease.Status);
        await waiter.SingleFlight.GetOrFetchAsync("sm:app/first", Ttl, _ => ValueTask.FromResult(Levels.Secret("app/first", "x", Version, _time.GetUtcNow())));
        await waiter.Store.ReadAsync("sm:app/first"); // the scripts loaded, so none is sent twice (EVALSHA, then EVAL) below

        var before = waiter.Connection.Multiplexer.GetCounters().Interactive.OperationCount;
        var waiting = waiter.SingleFlight.GetOrFetchAsync(key, Ttl, _ => throw new InvalidOperationException("the holder's value was expected")).AsTask();
        await Wait.UntilAsync(() => waiter.LeaseResults.Waiting == 1);
        Assert.True(await holder.Store.WriteAsync(key, Levels.Secret("app/held", "from-the-holder", Version, _time.GetUtcNow()), Ttl));
        await holder.SingleFlight.FinishAsync(lease.Handle!, written: true);
        var read = await waiting.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(("from-the-holder", FleetSource.SecondLevel), (read.Entry.Secret.GetString(), read.Source));
        // The script found the entry absent and the lease held, so the holder's result could only come after it: the read
        // and lease, then the read after the result (before, a read came between them too).
        Assert.Equal(2, waiter.Connection.Multiplexer.GetCounters().Interactive.OperationCount - before);
    }

    /// <summary>
    /// The instances of a fleet refresh a key at the same moment, each holding the entry the fleet shares: the read-and-lease
    /// script found it there, so each took the lease step too, and each waiter read once more before waiting. The script now
    /// knows from the entry's header whether it was fetched after the value the instance holds.
    /// </summary>
    [RedisFact]
    public async Task Refreshing_a_held_entry_the_script_takes_the_lease_or_finds_it_held_and_a_newer_entry_takes_neither()
    {
        await using var holder = await Levels.CreateAsync(server, _ns, _key, FleetSingleFlightTests.LongWaits, _time);
        await using var waiter = await Levels.CreateAsync(server, _ns, _key, FleetSingleFlightTests.LongWaits, _time);
        await using var late = await Levels.CreateAsync(server, _ns, _key, FleetSingleFlightTests.LongWaits, _time);
        const string key = "sm:app/refreshed";
        var held = Levels.Secret("app/refreshed", "held", Version, _time.GetUtcNow() - TimeSpan.FromMinutes(4));
        Assert.True(await holder.Store.WriteAsync(key, held, Ttl));
        foreach (var level in new[] { holder, waiter, late })
        {
            // Every script loaded, so none is sent twice (EVALSHA refused, then EVAL) below.
            await level.SingleFlight.GetOrFetchAsync("sm:app/first", Ttl, _ => ValueTask.FromResult(Levels.Secret("app/first", "x", Version, _time.GetUtcNow())));
            await level.Store.ReadAsync("sm:app/first");
        }

        var fetching = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        FleetFetch Refresh(Func<CancellationToken, ValueTask<Secret>> fetch) => new(key, Ttl, fetch, null, CancellationToken.None, held.FetchedAt);
        var holding = Levels.CommandsAsync(holder, async () => await holder.SingleFlight.GetOrFetchManyAsync([Refresh(async _ =>
        {
            fetching.SetResult();
            await release.Task;
            return Levels.Secret("app/refreshed", "fresh", Version, _time.GetUtcNow());
        })], CancellationToken.None));
        await fetching.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var waiting = Levels.CommandsAsync(waiter, async () => await waiter.SingleFlight.GetOrFetchManyAsync(
            [Refresh(_ => throw new InvalidOperationException("the holder's value was expected"))], CancellationToken.None));
        await Wait.UntilAsync(() => waiter.LeaseResults.Waiting == 1);
        release.SetResult();
        var (held1, holderCommands) = await holding.WaitAsync(TimeSpan.FromSeconds(30));
        var (waited, waiterCommands) = await waiting.WaitAsync(TimeSpan.FromSeconds(30));
        var (lately, lateCommands) = await Levels.CommandsAsync(late, async () => await late.SingleFlight.GetOrFetchManyAsync(
            [Refresh(_ => throw new InvalidOperationException("the newer entry was expected"))], CancellationToken.None));

        Assert.Equal(("fresh", FleetSource.Aws), (held1[0].GetOrThrow().Entry.Secret.GetString(), held1[0].Read!.Source));
        Assert.Equal(("fresh", FleetSource.SecondLevel), (waited[0].GetOrThrow().Entry.Secret.GetString(), waited[0].Read!.Source));
        Assert.Equal(("fresh", FleetSource.SecondLevel), (lately[0].GetOrThrow().Entry.Secret.GetString(), lately[0].Read!.Source));
        Assert.Equal(4, holderCommands); // read and lease, write, result, release (before: a lease step and a read came too)
        Assert.Equal(2, waiterCommands); // read and lease (found held), the read after the result (before: a lease step, a read)
        Assert.Equal(1, lateCommands); // the newer entry: no lease taken
        var (status, handle) = await late.Lease.TryAcquireAsync(key);
        Assert.Equal(LeaseStatus.Acquired, status);
        await late.Lease.ReleaseAsync(handle!);
    }

    /// <summary>
    /// The script trusts an entry's clear header only to skip a lease: an entry whose header was changed to claim a later
    /// fetch does not open (the tag covers the header), so the refresh takes the lease in the second step and fetches.
    /// </summary>
    [RedisFact]
    public async Task A_refresh_of_an_entry_whose_header_claims_a_later_fetch_still_leases_and_fetches()
    {
        await using var level = await Levels.CreateAsync(server, _ns, _key, FleetSingleFlightTests.LongWaits, _time);
        await using var admin = await server.ConnectAdminAsync();
        const string key = "sm:app/forged";
        var held = Levels.Secret("app/forged", "held", Version, _time.GetUtcNow() - TimeSpan.FromMinutes(4));
        Assert.True(await level.Store.WriteAsync(key, held, Ttl));
        var name = level.Connection.Names.Entry(RedisNames.Hash(level.Connection.Keys.Ring!.Current, key));
        var envelope = (byte[])(await admin.GetDatabase().StringGetAsync(name))!;
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(envelope.AsSpan(21), (_time.GetUtcNow() + TimeSpan.FromDays(365)).ToUnixTimeMilliseconds());
        Assert.True(await admin.GetDatabase().StringSetAsync(name, envelope, TimeSpan.FromMinutes(5)));

        var outcome = Assert.Single(await level.SingleFlight.GetOrFetchManyAsync(
            [new FleetFetch(key, Ttl, _ => ValueTask.FromResult(Levels.Secret("app/forged", "fresh", Version, _time.GetUtcNow())), null, CancellationToken.None, held.FetchedAt)],
            CancellationToken.None));

        Assert.Equal(("fresh", FleetSource.Aws), (outcome.GetOrThrow().Entry.Secret.GetString(), outcome.Read!.Source));
        Assert.Equal("fresh", (await level.Store.ReadAsync(key)).Entry?.Secret.GetString()); // written over the forged one
    }

    /// <summary>
    /// A refresh-ahead Redis does not answer in time goes to AWS without a lease; at a fleet's refresh moment every instance
    /// then fetches the key at once (in the fleet benchmark, a busy moment of the simulating process sent thousands). One
    /// whose value stays fresh a while may be deferred instead: neither read nor fetched, it is asked again later.
    /// </summary>
    [RedisFact]
    public async Task A_key_that_may_wait_is_deferred_not_fetched_when_Redis_does_not_answer_and_one_that_may_not_is_fetched()
    {
        await using var level = await Levels.CreateAsync(server, _ns, _key, o => o.OperationTimeout = TimeSpan.FromMilliseconds(200));
        await using var admin = await server.ConnectAdminAsync();
        var fetched = new int[2];
        FleetFetch Refresh(int i) => new(KeyNames[i], Ttl, _ =>
        {
            Interlocked.Increment(ref fetched[i]);
            return ValueTask.FromResult(Levels.Secret(KeyNames[i][3..], "from-aws", Version, DateTimeOffset.UtcNow));
        }, null, CancellationToken.None, DateTimeOffset.UtcNow - TimeSpan.FromMinutes(4), MayDefer: i == 0);

        await admin.GetServers()[0].ExecuteAsync("CLIENT", "PAUSE", "60000", "WRITE"); // scripts wait: no step is answered
        FleetOutcome[] outcomes;
        try
        {
            outcomes = await level.SingleFlight.GetOrFetchManyAsync([Refresh(0), Refresh(1)], CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            await admin.GetServers()[0].ExecuteAsync("CLIENT", "UNPAUSE");
        }

        Assert.True(outcomes[0].Deferred);
        Assert.Null(outcomes[0].Read);
        Assert.Equal(0, fetched[0]);
        Assert.Equal(("from-aws", FleetSource.Aws), (outcomes[1].GetOrThrow().Entry.Secret.GetString(), outcomes[1].Read!.Source));
        Assert.Equal(1, fetched[1]);
    }

    [RedisFact]
    public async Task A_key_that_may_wait_is_deferred_when_its_holder_fails()
    {
        await using var holder = await Levels.CreateAsync(server, _ns, _key, FleetSingleFlightTests.LongWaits, _time);
        await using var waiter = await Levels.CreateAsync(server, _ns, _key, FleetSingleFlightTests.LongWaits, _time);
        var lease = await holder.Lease.TryAcquireAsync(KeyNames[0]);
        Assert.Equal(LeaseStatus.Acquired, lease.Status);
        var fetched = 0;
        var waiting = waiter.SingleFlight.GetOrFetchManyAsync(
            [new FleetFetch(KeyNames[0], Ttl, _ =>
            {
                Interlocked.Increment(ref fetched);
                return ValueTask.FromResult(Levels.Secret(KeyNames[0][3..], "from-aws", Version, _time.GetUtcNow()));
            }, null, CancellationToken.None, MayDefer: true)],
            CancellationToken.None).AsTask();
        await Wait.UntilAsync(() => waiter.LeaseResults.Waiting == 1);
        await holder.SingleFlight.FinishAsync(lease.Handle!, written: false); // the holder's fetch failed

        var outcome = Assert.Single(await waiting.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(outcome.Deferred);
        Assert.Equal(0, fetched);
    }

    [RedisFact]
    public async Task A_slow_fetch_holds_back_neither_the_other_keys_answers_nor_their_writes()
    {
        await using var level = await Levels.CreateAsync(server, _ns, _key, FleetSingleFlightTests.LongWaits, _time);
        await using var reader = await Levels.CreateAsync(server, _ns, _key, FleetSingleFlightTests.LongWaits, _time);
        var slow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var answered = new bool[3];
        var fetches = KeyNames[..3].Select((key, i) => new FleetFetch(key, Ttl, async token =>
        {
            if (i == 0)
            {
                await slow.Task.WaitAsync(token);
            }

            return Levels.Secret(key[3..], $"value-{i}", Version, _time.GetUtcNow());
        }, null, CancellationToken.None)).ToArray();

        var call = level.SingleFlight.GetOrFetchManyAsync(fetches, CancellationToken.None, completed: (i, _) => Volatile.Write(ref answered[i], true)).AsTask();
        await Wait.UntilAsync(() => Volatile.Read(ref answered[1]) && Volatile.Read(ref answered[2]));
        // Answered once written, while key 0's fetch still runs: another instance reads them; their leases end soon after.
        var read = await reader.Store.ReadManyAsync(KeyNames[..3]);
        Assert.Equal([null, "value-1", "value-2"], read.Select(r => r.Entry?.Secret.GetString()));
        await Wait.UntilAsync(async () => (await reader.Lease.TryAcquireAsync(KeyNames[1])).Status == LeaseStatus.Acquired);
        Assert.False(Volatile.Read(ref answered[0]));
        Assert.False(call.IsCompleted);

        slow.SetResult();
        var outcomes = await call.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(["value-0", "value-1", "value-2"], outcomes.Select(o => o.GetOrThrow().Entry.Secret.GetString()));
    }

    [RedisFact]
    public async Task A_miss_a_caller_waits_on_goes_to_AWS_after_one_unanswered_step_without_a_lease_step()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        using var errors = new MetricCollector<long>(meters, SecretsCacheTelemetry.MeterName, "secretscache.l2.errors");
        await using var level = await Levels.CreateAsync(server, _ns, _key, o => o.OperationTimeout = TimeSpan.FromMilliseconds(200), meters: meters);
        await using var admin = await server.ConnectAdminAsync();

        await admin.GetServers()[0].ExecuteAsync("CLIENT", "PAUSE", "1500", "ALL"); // every client, this one too: it ends by itself
        var read = await level.SingleFlight.GetOrFetchAsync("sm:app/paused", Ttl, _ => ValueTask.FromResult(Levels.Secret("app/paused", "from-aws", Version, DateTimeOffset.UtcNow)));
        await admin.GetDatabase().PingAsync(); // answered once the pause is over

        Assert.Equal(("from-aws", FleetSource.Aws), (read.Entry.Secret.GetString(), read.Source));
        var operations = errors.GetMeasurementSnapshot().Select(m => (string?)m.Tags["secretscache.l2.operation"]).ToArray();
        Assert.Equal(1, operations.Count(o => o == "l2_read_lease"));
        Assert.DoesNotContain("lease_acquire", operations); // a warm-up would take the leases; a waiting caller goes to AWS
    }
}
