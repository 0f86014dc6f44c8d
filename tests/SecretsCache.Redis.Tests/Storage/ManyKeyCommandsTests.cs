using SecretsCache.Redis.Encryption;
using SecretsCache.Redis.Lease;
using SecretsCache.Redis.Storage;
using SecretsCache.Redis.Tests.Support;
using StackExchange.Redis;

namespace SecretsCache.Redis.Tests.Storage;

/// <summary>
/// A step over many keys (a warm-up's read, leases, writes, releases) is one command per hundred keys on one server, and one
/// per key on a cluster or a proxy, where a command's keys must share a slot: tested on a real one-node cluster.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class ManyKeyCommandsTests(RedisServer server)
{
    private const int Keys = 50;
    private readonly string _ns = Levels.NewNamespace();
    private readonly byte[] _key = Levels.NewKey();
    private readonly SignallingTimeProvider _time = new();

    private static string[] KeyNames => [.. Enumerable.Range(0, Keys).Select(i => $"sm:app/secret-{i:D2}")];

    [RedisFact]
    public async Task On_one_server_each_step_over_fifty_keys_is_one_command_not_one_per_key()
    {
        await using var level = await Levels.CreateAsync(server, _ns, _key, time: _time);
        var keys = KeyNames;
        var entries = keys.Select((k, i) => (k, Levels.Secret(k[3..], $"value-{i}", "version-1-000000000000000000000000", _time.GetUtcNow()), TimeSpan.FromMinutes(5))).ToArray();

        var written = await Levels.CommandsAsync(level, () => level.Store.WriteManyAsync(entries).AsTask());
        var read = await Levels.CommandsAsync(level, () => level.Store.ReadManyAsync(keys).AsTask());
        var leases = await Levels.CommandsAsync(level, () => level.Lease.TryAcquireManyAsync(keys).AsTask());
        var released = await Levels.CommandsAsync(level, () => level.Lease.ReleaseManyAsync([.. leases.Value.Select(l => l.Handle!)]).AsTask());

        Assert.All(written.Value, Assert.True);
        Assert.All(read.Value, r => Assert.True(r.IsHit, r.Reason.ToString()));
        Assert.Equal([.. keys.Select((_, i) => $"value-{i}")], read.Value.Select(r => r.Entry!.Secret.GetString()));
        Assert.All(leases.Value, l => Assert.Equal(LeaseStatus.Acquired, l.Status));
        Assert.All(released.Value, Assert.True);
        // One EVALSHA each (and an EVAL before it, when this server does not know the script yet), not one command per key.
        Assert.All([written.Commands, read.Commands, leases.Commands, released.Commands], c => Assert.InRange(c, 1, 2));
    }

    [RedisFact]
    public async Task On_one_server_a_warm_up_reads_its_keys_and_takes_the_leases_of_the_absent_ones_in_one_command()
    {
        await using var first = await Levels.CreateAsync(server, _ns, _key, time: _time);
        await using var second = await Levels.CreateAsync(server, _ns, _key, time: _time);
        await using var admin = await server.ConnectAdminAsync();
        var keys = KeyNames;
        Assert.All(await first.Store.WriteManyAsync([.. keys.Take(25).Select(k => (k, Levels.Secret(k[3..], "v-" + k, "version-1-000000000000000000000000", _time.GetUtcNow()), TimeSpan.FromMinutes(5)))]), Assert.True);
        var garbage = first.Connection.Names.Entry(RedisNames.Hash(first.Connection.Keys.Ring!.Current, keys[10]));
        await admin.GetDatabase().StringSetAsync(garbage, "not an envelope");

        var took = await Levels.CommandsAsync(first, () => first.ReadOrLease.RunAsync(keys, CancellationToken.None).AsTask());
        var found = await Levels.CommandsAsync(second, () => second.ReadOrLease.RunAsync(keys, CancellationToken.None).AsTask());

        // 24 hits and no lease asked for them; the garbage under key 10 read as a miss, its lease taken in a second step.
        Assert.Equal([.. keys.Take(25).Select((k, i) => i == 10 ? null : "v-" + k), .. Enumerable.Repeat<string?>(null, 25)], took.Value.Reads.Select(r => r.Entry?.Secret.GetString()));
        Assert.Equal(L2MissReason.Malformed, took.Value.Reads[10].Reason);
        Assert.All(Enumerable.Range(0, Keys), i => Assert.Equal(i < 25 && i != 10 ? null : LeaseStatus.Acquired, took.Value.Leases[i]?.Status));
        Assert.All(Enumerable.Range(0, Keys), i => Assert.Equal(i < 25 && i != 10 ? null : LeaseStatus.Held, found.Value.Leases[i]?.Status));
        Assert.InRange(took.Commands, 2, 4); // the step, and the second step for key 10 (each an EVAL first when the server does not know it yet)
        Assert.InRange(found.Commands, 2, 4);
        Assert.All(await first.Lease.ReleaseManyAsync([.. took.Value.Leases.Where(l => l is not null).Select(l => l!.Value.Handle!)]), Assert.True);
    }

    [RedisFact]
    public async Task A_read_and_lease_step_not_answered_in_time_holds_the_leases_it_took_once_Redis_answers()
    {
        var time = new SignallingTimeProvider();
        await using var level = await Levels.CreateAsync(server, _ns, _key, time: time);
        await using var admin = await server.ConnectAdminAsync();
        using var errors = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(level.Connection.Metrics.Errors);
        var keys = KeyNames[..5];
        var sent = time.WhenTimerCreated(level.Connection.Options.OperationTimeout);

        // Writes (scripts among them) wait until the pause ends, which this test decides.
        await admin.GetServers()[0].ExecuteAsync("CLIENT", "PAUSE", "60000", "WRITE");
        Task<ReadsAndLeases> stepping;
        try
        {
            stepping = level.ReadOrLease.RunAsync(keys, CancellationToken.None).AsTask();
            await sent.WaitAsync(TimeSpan.FromSeconds(30));
            time.Advance(level.Connection.Options.OperationTimeout);
            await Wait.UntilAsync(() => errors.GetMeasurementSnapshot().Count == 1);
        }
        finally
        {
            await admin.GetServers()[0].ExecuteAsync("CLIENT", "UNPAUSE");
        }

        var step = await stepping.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(step.Reads, r => Assert.Equal(L2MissReason.Unavailable, r.Reason));
        Assert.All(step.Leases, l => Assert.Equal(LeaseStatus.Acquired, l?.Status)); // the lease step asked with the same tokens
        Assert.All(await level.Lease.ReleaseManyAsync([.. step.Leases.Select(l => l!.Value.Handle!)]), Assert.True);
        var error = Assert.Single(errors.GetMeasurementSnapshot());
        Assert.Equal("l2_read_lease", error.Tags["secretscache.l2.operation"]);
    }

    [RedisFact]
    public async Task Another_type_planted_under_one_name_is_a_malformed_miss_for_that_key_alone()
    {
        await using var level = await Levels.CreateAsync(server, _ns, _key, time: _time);
        await using var admin = await server.ConnectAdminAsync();
        var keys = KeyNames;
        Assert.All(await level.Store.WriteManyAsync([.. keys.Select(k => (k, Levels.Secret(k[3..], "v", "version-1-000000000000000000000000", _time.GetUtcNow()), TimeSpan.FromMinutes(5)))]), Assert.True);
        var poisoned = level.Connection.Names.Entry(RedisNames.Hash(level.Connection.Keys.Ring!.Current, keys[7]));
        await admin.GetDatabase().KeyDeleteAsync(poisoned);
        await admin.GetDatabase().HashSetAsync(poisoned, "f", "v");

        var reads = await level.Store.ReadManyAsync(keys);

        Assert.Equal(L2MissReason.Malformed, reads[7].Reason);
        Assert.Equal(Keys - 1, reads.Count(r => r.IsHit));
        Assert.False(level.Connection.Guard.IsOpen);
    }

    [RedisFact]
    public async Task On_a_cluster_a_warm_up_step_sends_one_command_per_key_and_every_key_is_written_leased_and_read()
    {
        await using var cluster = await RedisServer.StartNewAsync(s => s.ExtraArguments = ["--cluster-enabled", "yes"]);
        await using (var admin = await cluster.ConnectAdminAsync())
        {
            await admin.GetServers()[0].ExecuteAsync("CLUSTER", "ADDSLOTSRANGE", "0", "16383");
            await Wait.UntilAsync(async () => ((string?)await admin.GetServers()[0].ExecuteAsync("CLUSTER", "INFO"))!.Contains("cluster_state:ok", StringComparison.Ordinal), seconds: 30);
        }

        await using var level = await Levels.CreateAsync(cluster, _ns, _key, time: _time);
        await Wait.UntilAsync(() => level.Connection.Multiplexer.GetServers() is [{ ServerType: ServerType.Cluster, IsConnected: true }], seconds: 30);
        var keys = KeyNames;

        var written = await level.Store.WriteManyAsync([.. keys.Select(k => (k, Levels.Secret(k[3..], "value-" + k, "version-1-000000000000000000000000", _time.GetUtcNow()), TimeSpan.FromMinutes(5)))]);
        var reads = await Levels.CommandsAsync(level, () => level.Store.ReadManyAsync(keys).AsTask());
        var leases = await level.Lease.TryAcquireManyAsync(keys);
        var released = await level.Lease.ReleaseManyAsync([.. leases.Select(l => l.Handle!)]);
        var step = await level.ReadOrLease.RunAsync(keys, CancellationToken.None); // a read, then the leases: none for the hits

        Assert.All(step.Reads, r => Assert.True(r.IsHit));
        Assert.All(step.Leases, l => Assert.Null(l));
        Assert.All(written, Assert.True);
        Assert.Equal([.. keys.Select(k => "value-" + k)], reads.Value.Select(r => r.Entry?.Secret.GetString()));
        Assert.InRange(reads.Commands, Keys, 2 * Keys); // a cluster's command keeps to one slot: one key each (and an EVAL each, on a new server)
        Assert.All(leases, l => Assert.Equal(LeaseStatus.Acquired, l.Status));
        Assert.All(released, Assert.True);
        Assert.False(level.Connection.Guard.IsOpen);
    }
}
