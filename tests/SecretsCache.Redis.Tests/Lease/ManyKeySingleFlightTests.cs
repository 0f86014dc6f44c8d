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
    public async Task Three_instances_on_forty_missing_keys_fetch_each_once_and_a_failing_key_fails_alone()
    {
        var fleet = await Levels.FleetAsync(server, 3, _ns, _key, FleetSingleFlightTests.LongWaits, _time);
        try
        {
            var fetches = new int[Keys];
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            FleetFetch[] Fetches() => [.. KeyNames.Select((key, i) => new FleetFetch(key, Ttl, async token =>
            {
                Interlocked.Increment(ref fetches[i]);
                await release.Task.WaitAsync(token);
                return i == 7 ? throw new InvalidOperationException("key seven fails") : Levels.Secret(key[3..], $"value-{i}", Version, _time.GetUtcNow());
            }, null, CancellationToken.None))];

            var calls = fleet.Select(level => level.SingleFlight.GetOrFetchManyAsync(Fetches(), CancellationToken.None).AsTask()).ToArray();
            // Every key has one holder and two waiters before any fetch ends.
            await Wait.UntilAsync(() => fleet.Sum(l => l.LeaseResults.Waiting) == 2 * Keys);
            release.SetResult();
            var outcomes = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30));

            for (var i = 0; i < Keys; i++)
            {
                var key = outcomes.Select(o => o[i]).ToArray();
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
        var forty = await Levels.CommandsAsync(level, () => level.SingleFlight.GetOrFetchManyAsync(
            [.. KeyNames.Select(k => new FleetFetch(k, Ttl, _ => ValueTask.FromResult(Levels.Secret(k[3..], "v-" + k, Version, _time.GetUtcNow())), null, CancellationToken.None))],
            CancellationToken.None).AsTask());

        Assert.Equal(FleetSource.Aws, one.Value.Source);
        Assert.All(forty.Value, o => Assert.Equal(FleetSource.Aws, o.Read!.Source));
        // Read and lease, write, the result, the release: four commands (before, a read, a lease and a second read came first).
        Assert.Equal(4, one.Commands);
        Assert.Equal(4, forty.Commands);
    }

    [RedisFact]
    public async Task A_waiter_told_by_the_read_and_lease_script_that_the_lease_is_held_waits_without_reading_again_first()
    {
        await using var holder = await Levels.CreateAsync(server, _ns, _key, FleetSingleFlightTests.LongWaits, _time);
        await using var waiter = await Levels.CreateAsync(server, _ns, _key, FleetSingleFlightTests.LongWaits, _time);
        const string key = "sm:app/held";
        var lease = await holder.Lease.TryAcquireAsync(key);
        Assert.Equal(LeaseStatus.Acquired, lease.Status);
        await waiter.SingleFlight.GetOrFetchAsync("sm:app/first", Ttl, _ => ValueTask.FromResult(Levels.Secret("app/first", "x", Version, _time.GetUtcNow()))); // scripts loaded

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
}
