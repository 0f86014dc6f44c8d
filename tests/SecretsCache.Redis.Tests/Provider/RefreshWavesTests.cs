using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using SecretsCache.Redis.Tests.Support;

namespace SecretsCache.Redis.Tests.Provider;

/// <summary>
/// An instance's refresh-aheads that come due together go through the fleet's single-flight in waves: one Redis command per
/// step for the wave, not one per key. A fleet refreshes a shared key at the same moment everywhere, so each instance's keys
/// come due together; one by one, a dense fleet sent tens of thousands of round trips in one refresh wave.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RefreshWavesTests(RedisServer server) : FleetProviderTests(server)
{
    private const int Keys = 40;
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(1);
    private static readonly string[] References = [.. Enumerable.Range(0, Keys).Select(i => $"app/s{i:D2}")];
    private static readonly string[] Canonical = [.. References.Select(r => SecretReference.Parse(r).ToString())];

    [RedisFact]
    public async Task Forty_refreshes_that_come_due_while_one_is_in_its_Redis_step_take_one_wave_not_forty_round_trips()
    {
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow()); // near the real time: the emulator checks signatures' dates
        var provider = await StartWithSecretsAsync(time);
        var level = FleetProviders.LevelOf(provider);
        var warmedAt = time.GetUtcNow();

        // Another instance has refreshed every key already: its entries are newer than the ones this instance holds.
        await using (var other = await Levels.CreateAsync(Server, Fleet.Namespace, Fleet.Key, time: time))
        {
            var newer = References.Select((r, i) => (Canonical[i], Levels.Secret(r, $"newer-{i}", VersionOf(provider, r), warmedAt + TimeSpan.FromSeconds(50)), Ttl));
            Assert.All(await other.Store.WriteManyAsync([.. newer]), Assert.True);
        }

        time.Advance(TimeSpan.FromSeconds(58)); // past every key's refresh point (at most 0.95 of the TTL), before expiry
        await using var admin = await Server.ConnectAdminAsync();
        var before = level.Connection.Multiplexer.GetCounters().Interactive.OperationCount;
        var waves = level.Waves.Started;
        await admin.GetServers()[0].ExecuteAsync("CLIENT", "PAUSE", "120000", "WRITE"); // scripts wait, so the first wave stays in its step
        try
        {
            Assert.Equal("value-0", await provider.GetStringAsync(References[0])); // served; its refresh starts a wave
            await Wait.UntilAsync(() => level.Waves.Started == waves + 1);
            foreach (var reference in References.Skip(1))
            {
                Assert.StartsWith("value-", await provider.GetStringAsync(reference));
            }

            await Wait.UntilAsync(() => level.Waves.Queued == Keys - 1);
        }
        finally
        {
            await admin.GetServers()[0].ExecuteAsync("CLIENT", "UNPAUSE");
        }

        await Wait.UntilAsync(() => References.Select((r, i) => (r, i)).All(k => provider.TryGetCached(k.r, out var held) && held.GetString() == $"newer-{k.i}"));
        Assert.Equal(waves + 2, level.Waves.Started);
        // One read-and-lease script per wave (background timers may add one or two): one by one, it was forty.
        Assert.InRange(level.Connection.Multiplexer.GetCounters().Interactive.OperationCount - before, 2, 6);
        Assert.Equal(Keys, Aws.Requests.Count("secretsmanager.GetSecretValue")); // the warm-up's, nothing since
    }

    [RedisFact]
    public async Task Three_instances_hammering_forty_keys_through_a_refresh_wave_fetch_each_new_version_once_and_all_serve_it()
    {
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var first = await StartWithSecretsAsync(time);
        SecretProvider[] fleet = [first, await Fleet.StartAsync(Configure, time: time), await Fleet.StartAsync(Configure, time: time)];
        foreach (var provider in fleet.Skip(1))
        {
            Assert.Equal(Keys, (await provider.WarmUpAsync(References)).Loaded); // from the second level
        }

        var fetchedBefore = AwsCalls();
        for (var i = 0; i < Keys; i++)
        {
            Aws.PutSecretValue(References[i], $"rotated-{i}");
        }

        time.Advance(TimeSpan.FromSeconds(58));
        var errors = 0;
        var readers = fleet.SelectMany((provider, p) => Enumerable.Range(0, 4).Select(r => Task.Run(async () =>
        {
            var order = new Random((p * 4) + r);
            for (var round = 0; round < 5; round++)
            {
                foreach (var i in Enumerable.Range(0, Keys).OrderBy(_ => order.Next()))
                {
                    try
                    {
                        Assert.Matches("^(value|rotated)-", await provider.GetStringAsync(References[i]));
                    }
                    catch (SecretsCacheException)
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
            }
        }))).ToArray();
        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(60));

        await Wait.UntilAsync(() => fleet.All(p => References.Select((r, i) => (r, i)).All(k => p.TryGetCached(k.r, out var held) && held.GetString() == $"rotated-{k.i}")), seconds: 30);
        Assert.Equal(0, errors);
        Assert.Equal(Keys, AwsCalls() - fetchedBefore); // one fetch per key for the whole fleet
        Assert.All(fleet, p => Assert.Equal(0, FleetProviders.LevelOf(p).Waves.Queued));
        Assert.All(fleet, p => Assert.InRange(FleetProviders.LevelOf(p).Waves.Started, 1, Keys * 2)); // the refreshes and re-reads went in waves
    }

    /// <summary>
    /// A refresh-ahead that Redis does not answer in time, while its value stays fresh, is asked again after the deferral
    /// (half of what is left of its freshness, at most half the fetch's budget), not sent to AWS at once: at a fleet's
    /// refresh moment every instance would fetch it, and in the fleet benchmark a busy moment of the simulating process
    /// sent thousands that way.
    /// </summary>
    [RedisFact]
    public async Task A_refresh_ahead_Redis_does_not_answer_asks_again_after_its_deferral_instead_of_going_to_AWS()
    {
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow()); // near the real time: the emulator checks signatures' dates
        const string reference = "app/deferred";
        var canonical = SecretReference.Parse(reference).ToString();
        Aws.CreateSecret(reference, "value-0");
        var provider = await Fleet.StartAsync(Configure, r =>
        {
            r.OperationTimeout = TimeSpan.FromMilliseconds(200);
            r.RefreshAheadFraction = 0.5; // refreshed after about 30 s of the minute: 15 s of deferral left
        }, time);
        Assert.Equal("value-0", await provider.GetStringAsync(reference));
        var level = FleetProviders.LevelOf(provider);
        using var deferred = new MetricCollector<long>(level.Connection.Metrics.DeferredRefreshes);
        await using (var other = await Levels.CreateAsync(Server, Fleet.Namespace, Fleet.Key, time: time))
        {
            Assert.True(await other.Store.WriteAsync(canonical, Levels.Secret(reference, "newer", VersionOf(provider, reference), time.GetUtcNow() + TimeSpan.FromSeconds(20)), Ttl));
        }

        time.Advance(TimeSpan.FromSeconds(31)); // past the refresh point, 29 s before expiry
        await using var admin = await Server.ConnectAdminAsync();
        await admin.GetServers()[0].ExecuteAsync("CLIENT", "PAUSE", "120000", "WRITE"); // the wave's scripts are not answered
        try
        {
            Assert.Equal("value-0", await provider.GetStringAsync(reference)); // served; its refresh starts
            await Wait.UntilAsync(() =>
            {
                if (deferred.GetMeasurementSnapshot().Count == 0)
                {
                    time.Advance(level.Connection.Options.OperationTimeout); // each step's timeout, then the lease step's two
                }

                return deferred.GetMeasurementSnapshot().Count == 1;
            });
        }
        finally
        {
            await admin.GetServers()[0].ExecuteAsync("CLIENT", "UNPAUSE");
        }

        Assert.Equal(1, Aws.Requests.Count("secretsmanager.GetSecretValue")); // before, the refresh went to AWS here
        time.Advance(TimeSpan.FromSeconds(15)); // the deferral: at most half of the 29 s left
        await Wait.UntilAsync(() => provider.TryGetCached(reference, out var held) && held.GetString() == "newer");
        Assert.Equal(1, Aws.Requests.Count("secretsmanager.GetSecretValue"));
        Assert.Single(deferred.GetMeasurementSnapshot());
    }

    private static void Configure(SecretsCacheOptions o) => o.DefaultTtl = Ttl;

    private static string? VersionOf(SecretProvider provider, string reference) =>
        provider.TryGetCached(reference, out var held) ? held.VersionId : null;

    private async Task<SecretProvider> StartWithSecretsAsync(FakeTimeProvider time)
    {
        for (var i = 0; i < Keys; i++)
        {
            Aws.CreateSecret(References[i], $"value-{i}");
        }

        var provider = await Fleet.StartAsync(Configure, time: time);
        foreach (var reference in References)
        {
            Assert.StartsWith("value-", await provider.GetStringAsync(reference));
        }

        return provider;
    }

    private int AwsCalls() => Aws.Requests.Count("secretsmanager.GetSecretValue") + Aws.Requests.Count("secretsmanager.DescribeSecret");
}
