using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using SecretsCache.Redis.FleetLimit;
using SecretsCache.Redis.Lease;
using SecretsCache.Redis.Tests.Support;
using SecretsCache.Testing;

namespace SecretsCache.Redis.Tests.Provider;

/// <summary>
/// A warm-up through the second level takes each step (read, lease, wait, write, announce) for all its keys in one guarded
/// round trip. Before, each key made its own guarded call: a fleet's deploy sent tens of thousands of them in its first
/// second, and a Redis that did not answer cost one timeout, and one breaker sample, per key.
/// </summary>
public sealed class WarmUpRoundTripsTests : IAsyncLifetime
{
    private const string GetSecretValue = "secretsmanager.GetSecretValue";
    private const string Batch = "secretsmanager.BatchGetSecretValue";
    private const int Keys = 20;
    private static readonly string[] References = [.. Enumerable.Range(0, Keys).Select(i => $"app/s{i}")];
    private static readonly string[] Canonical = [.. References.Select(r => SecretReference.Parse(r).ToString())];
    private AwsEmulator _aws = null!;
    private RedisServer _server = null!;
    private FleetProviders _fleet = null!;

    public async Task InitializeAsync()
    {
        (_aws, _server, _fleet) = await FleetProviders.StartServersAsync();
        for (var i = 0; i < Keys; i++)
        {
            _aws.CreateSecret(References[i], $"value-{i}");
        }
    }

    public Task DisposeAsync() => FleetProviders.StopServersAsync(_aws, _server, _fleet);

    [RedisFact]
    public async Task A_warm_up_that_Redis_does_not_answer_costs_one_read_timeout_for_all_its_keys_not_one_per_key()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        var provider = await _fleet.StartAsync(configureRedis: o => o.OperationTimeout = TimeSpan.FromMilliseconds(200), meters: meters);
        using var errors = new MetricCollector<long>(meters, SecretsCacheTelemetry.MeterName, "secretscache.l2.errors");
        await using var admin = await _server.ConnectAdminAsync();

        // Every client is paused, this one included (so it cannot unpause): the pause ends by itself.
        await admin.GetServers()[0].ExecuteAsync("CLIENT", "PAUSE", "5000", "ALL");
        var result = await provider.WarmUpAsync(References).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(Keys, result.Loaded); // from AWS, as without a second level
        var failed = errors.GetMeasurementSnapshot();
        Assert.Equal(1, failed.Count(m => (string?)m.Tags["secretscache.l2.operation"] is "l2_read" or "l2_read_lease"));
        Assert.True(failed.Count(m => (string?)m.Tags["secretscache.l2.operation"] == "l2_write") <= 1);
    }

    [RedisFact]
    public async Task A_warm_up_of_keys_another_instance_holds_waits_for_them_all_and_reads_them_from_the_second_level()
    {
        var holder = FleetProviders.LevelOf(await _fleet.StartAsync());
        var reader = await _fleet.StartAsync();
        var leases = await holder.Lease.TryAcquireManyAsync(Canonical);
        Assert.All(leases, l => Assert.Equal(LeaseStatus.Acquired, l.Status));

        var warming = reader.WarmUpAsync(References);
        await Wait.UntilAsync(() => FleetProviders.LevelOf(reader).LeaseResults.Waiting == Keys, seconds: 30);
        Assert.False(warming.IsCompleted);
        var written = await holder.Store.WriteManyAsync([.. Canonical.Select((key, i) => (key, Levels.Secret(References[i], $"held-{i}", "version-1-000000000000000000000000", TimeProvider.System.GetUtcNow()), TimeSpan.FromMinutes(5)))]);
        Assert.All(written, Assert.True);
        await holder.SingleFlight.FinishManyAsync([.. leases.Select(l => (l.Handle!, true))]);

        var result = await warming.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Keys, result.Loaded);
        Assert.Equal("held-7", await reader.GetStringAsync("app/s7"));
        Assert.Equal(0, _aws.Requests.Count(GetSecretValue) + _aws.Requests.Count(Batch)); // every key came from the holder
        Assert.Equal(0, FleetProviders.LevelOf(reader).LeaseResults.Waiting);
    }

    [RedisFact]
    public async Task A_warm_up_whose_wait_for_the_holders_runs_out_reads_those_keys_one_by_one_not_in_a_batch_behind_them()
    {
        var holder = FleetProviders.LevelOf(await _fleet.StartAsync());
        var reader = await _fleet.StartAsync(configureRedis: o => o.LeaseWaitTimeout = TimeSpan.FromMilliseconds(300));
        // Held and never finished: a holder queued for its batch, as far as the waiter can tell.
        Assert.All(await holder.Lease.TryAcquireManyAsync(Canonical), l => Assert.Equal(LeaseStatus.Acquired, l.Status));

        var result = await reader.WarmUpAsync(References).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(Keys, result.Loaded);
        Assert.Equal(Keys, _aws.Requests.Count(GetSecretValue));
        Assert.Equal(0, _aws.Requests.Count(Batch)); // a batch would have queued behind the holders' own
        Assert.Equal("value-3", await reader.GetStringAsync("app/s3"));
    }

    /// <summary>
    /// A warm-up that holds leases says it is still fetching while its batch takes longer than half the wait bound, so the
    /// other instances' warm-ups wait for it instead of reading every key themselves (behind it, in a real fleet's queue).
    /// </summary>
    [RedisFact]
    public async Task A_warm_up_waits_past_its_bound_for_a_holder_still_fetching_and_sends_nothing_to_AWS()
    {
        // Words every second against a 2 s bound: a loaded machine (both suites at once) delayed a word past a 1 s bound once.
        static void Waits(RedisL2Options o) => o.LeaseWaitTimeout = TimeSpan.FromSeconds(2);
        var holder = await _fleet.StartAsync(configureRedis: Waits);
        var reader = await _fleet.StartAsync(configureRedis: Waits);
        await using var admin = await _server.ConnectAdminAsync();
        var level = FleetProviders.LevelOf(holder);
        var leases = Canonical.Select(k => level.Connection.Names.Lease(SecretsCache.Redis.Encryption.RedisNames.Hash(level.Connection.Keys.Ring!.Current, k))).ToArray();
        _aws.Faults.Latency = TimeSpan.FromSeconds(6); // three bounds: the holder's one batch answers after that

        var holding = holder.WarmUpAsync(References);
        await Wait.UntilAsync(async () => (await Task.WhenAll(leases.Select(l => admin.GetDatabase().KeyExistsAsync(l)))).All(e => e), seconds: 30);
        var reading = reader.WarmUpAsync(References);
        var results = await Task.WhenAll(holding, reading).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.All(results, r => Assert.Equal(Keys, r.Loaded));
        Assert.Equal(1, _aws.Requests.Count(Batch)); // the holder's
        Assert.Equal(0, _aws.Requests.Count(GetSecretValue));
        Assert.True(FleetProviders.LevelOf(reader).LeaseResults.ProgressHeard > 0);
        Assert.Equal("value-9", await reader.GetStringAsync("app/s9"));
    }

    [RedisFact]
    public async Task A_warm_up_behind_a_fleet_batch_queue_longer_than_its_horizon_reads_one_by_one()
    {
        var provider = await _fleet.StartAsync(configureRedis: o => o.FleetRateLimits.SecretsManagerBatchRequestsPerSecond = 2);
        var level = FleetProviders.LevelOf(provider);
        var size = level.FleetLimiter[FleetQuota.SecretsManagerBatch]!.Size;
        // Other instances' batches hold the fleet's batch queue about ten seconds ahead.
        var others = await FleetBucket.TakeAsync(level.Connection.Database, level.Connection.Names.Bucket("sm-batch"), size, want: 10);
        Assert.True(others.Reserved && others.RetryAfter > FleetBucket.BatchHorizon, $"granted {others.Granted}, wait {others.RetryAfter}");

        var probe = await level.FleetLimiter.AcquireAsync(FleetQuota.SecretsManagerBatch);
        Assert.Equal(FleetPermitSource.QueuedTooLong, probe.Source);
        var result = await provider.WarmUpAsync(References).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(Keys, result.Loaded);
        Assert.Equal(0, _aws.Requests.Count(Batch)); // not sent behind that queue
        Assert.Equal(Keys, _aws.Requests.Count(GetSecretValue));
    }

    [RedisFact]
    public async Task A_warm_up_behind_half_a_second_of_the_fleets_batch_queue_reads_one_by_one()
    {
        // A deploy's instances that fetch for themselves queued 126 batches at 100 a second in the fleet benchmark, and the
        // holders' batches, which every waiter needs, queued behind them. A batch waits at most a quarter second: read singly,
        // its 20 secrets are 20 of the 5,500 GetSecretValue tokens of a second, sooner.
        var provider = await _fleet.StartAsync(configureRedis: o => o.FleetRateLimits.SecretsManagerBatchRequestsPerSecond = 10);
        var level = FleetProviders.LevelOf(provider);
        var size = level.FleetLimiter[FleetQuota.SecretsManagerBatch]!.Size;
        var others = await FleetBucket.TakeAsync(level.Connection.Database, level.Connection.Names.Bucket("sm-batch"), size, want: (int)Math.Ceiling(size.Capacity) + 5);
        Assert.True(others.Reserved && others.RetryAfter > TimeSpan.FromMilliseconds(400), $"granted {others.Granted}, wait {others.RetryAfter}");

        Assert.Equal(FleetPermitSource.QueuedTooLong, (await level.FleetLimiter.AcquireAsync(FleetQuota.SecretsManagerBatch)).Source);
        var result = await provider.WarmUpAsync(References).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(Keys, result.Loaded);
        Assert.Equal(0, _aws.Requests.Count(Batch));
        Assert.Equal(Keys, _aws.Requests.Count(GetSecretValue));
    }

    [RedisFact]
    public async Task A_warm_up_whose_read_step_Redis_refused_still_takes_the_leases_and_waits_for_their_holders()
    {
        // The reader may do everything the documented ACL allows but GETRANGE: its reads fail, its leases do not.
        await using var admin = await _server.ConnectAdminAsync();
        await admin.GetServers()[0].ExecuteAsync("ACL", Connection.SecureConnectionTests.AclFor("reader", "pw-reader", _fleet.Namespace, without: "getrange"));
        var holder = FleetProviders.LevelOf(await _fleet.StartAsync());
        // Its breaker stays closed (refused reads would open it: then no Redis call at all, by design).
        var reader = await _fleet.StartAsync(configureRedis: o => (o.User, o.Password, o.LeaseWaitTimeout, o.CircuitBreaker.MinimumThroughput) = ("reader", "pw-reader", TimeSpan.FromSeconds(10), 1_000));
        var leases = await holder.Lease.TryAcquireManyAsync(Canonical);
        Assert.All(leases, l => Assert.Equal(LeaseStatus.Acquired, l.Status));

        var warming = reader.WarmUpAsync(References);
        // Without the leases it would have gone to AWS at once; it waits for the holder of every key instead.
        await Wait.UntilAsync(() => FleetProviders.LevelOf(reader).LeaseResults.Waiting == Keys, seconds: 30, () => $"{_aws.Requests.Count(GetSecretValue)} singles, {_aws.Requests.Count(Batch)} batches, warm-up done: {warming.IsCompleted}, open {FleetProviders.LevelOf(reader).Connection.Guard.IsOpen}, skips {FleetProviders.LevelOf(reader).Connection.Guard.Skips}, subscribed {FleetProviders.LevelOf(reader).LeaseResults.IsSubscribed}");
        Assert.Equal(0, _aws.Requests.Count(GetSecretValue) + _aws.Requests.Count(Batch));
        await holder.SingleFlight.FinishManyAsync([.. leases.Select(l => (l.Handle!, false))]); // the holder failed: fetch yourselves

        var result = await warming.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Keys, result.Loaded);
        Assert.Equal("value-5", await reader.GetStringAsync("app/s5"));
    }
}
