using SecretsCache.Redis.Encryption;
using SecretsCache.Redis.Lease;
using SecretsCache.Redis.Tests.Support;

namespace SecretsCache.Redis.Tests.Lease;

/// <summary>
/// A caller that stops waiting while its leases are being taken leaves none behind: a lease nobody fetches for, and nobody
/// ends, holds its key for the whole <see cref="RedisL2Options.LeaseDuration"/>, and every instance that comes for the key
/// meanwhile waits out its bound before fetching alone.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class LeaseCancellationTests(RedisServer server)
{
    private const string Version = "version-1-000000000000000000000000";
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);
    private readonly string _ns = Levels.NewNamespace();
    private readonly byte[] _key = Levels.NewKey();
    private readonly SignallingTimeProvider _time = new();

    [RedisFact]
    public async Task A_cancellation_between_the_read_and_lease_script_and_the_lease_step_ends_the_leases_the_script_took()
    {
        await using var level = await Levels.CreateAsync(server, _ns, _key, FleetSingleFlightTests.LongWaits, _time);
        await using var other = await Levels.CreateAsync(server, _ns, _key, FleetSingleFlightTests.LongWaits, _time);
        const string absent = "sm:app/absent";
        const string held = "sm:app/held";
        Assert.True(await level.Store.WriteAsync(held, Levels.Secret("app/held", "old", Version, _time.GetUtcNow()), Ttl));
        using var cancel = new CancellationTokenSource();

        // The script takes the absent key's lease; the held key's entry is not accepted (a refresh wants a newer one), and the
        // caller gives up just then, before the lease step of that key.
        FleetFetch Fetch(string key, Func<L2Entry, bool>? accept) =>
            new(key, Ttl, _ => throw new InvalidOperationException("nothing is to be fetched"), accept, CancellationToken.None);
        var outcomes = await level.SingleFlight.GetOrFetchManyAsync(
            [Fetch(absent, null), Fetch(held, _ =>
            {
                cancel.Cancel();
                return false;
            })],
            cancel.Token);

        Assert.All(outcomes, o => Assert.ThrowsAny<OperationCanceledException>(() => o.GetOrThrow()));
        var (status, handle) = await other.Lease.TryAcquireAsync(absent); // before, held by nobody for ten minutes
        Assert.Equal(LeaseStatus.Acquired, status);
        Assert.True(await other.Lease.ReleaseAsync(handle!));
    }

    [RedisFact]
    public async Task A_read_and_lease_script_the_caller_stopped_waiting_for_leaves_no_lease_once_Redis_runs_it()
    {
        string[] keys = ["sm:app/one", "sm:app/two"];
        await CancelWhileSentAsync(keys, (level, token) => level.ReadOrLease.RunAsync(keys, token).AsTask());
    }

    [RedisFact]
    public async Task A_lease_step_the_caller_stopped_waiting_for_leaves_no_lease_once_Redis_runs_it()
    {
        string[] keys = ["sm:app/one", "sm:app/two"];
        await CancelWhileSentAsync(keys, (level, token) => level.Lease.TryAcquireManyAsync(keys, token).AsTask());
    }

    /// <summary>
    /// Sends <paramref name="step"/> while Redis holds back writes (scripts among them), cancels it once it is sent, then lets
    /// Redis run it: no lease of <paramref name="keys"/> is left held.
    /// </summary>
    private async Task CancelWhileSentAsync(string[] keys, Func<RedisSecondLevel, CancellationToken, Task> step)
    {
        await using var level = await Levels.CreateAsync(server, _ns, _key, FleetSingleFlightTests.LongWaits, _time);
        await using var other = await Levels.CreateAsync(server, _ns, _key, FleetSingleFlightTests.LongWaits, _time);
        await using var admin = await server.ConnectAdminAsync();
        // Every script loaded, so none is sent a second time (EVALSHA refused, then EVAL) after the release below.
        var loaded = await level.ReadOrLease.RunAsync(["sm:app/first"], CancellationToken.None);
        await level.Lease.ReleaseManyAsync([.. loaded.Leases.Select(l => l!.Value.Handle!), .. await LeasesAsync(level, ["sm:app/second"])]);
        using var cancel = new CancellationTokenSource();
        var sent = _time.WhenTimerCreated(level.Connection.Options.OperationTimeout);

        await admin.GetServers()[0].ExecuteAsync("CLIENT", "PAUSE", "120000", "WRITE");
        Task running;
        try
        {
            running = step(level, cancel.Token);
            await sent.WaitAsync(TimeSpan.FromSeconds(30));
            await cancel.CancelAsync();
        }
        finally
        {
            await admin.GetServers()[0].ExecuteAsync("CLIENT", "UNPAUSE");
        }

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(TimeSpan.FromSeconds(30)));
        await level.Connection.Multiplexer.GetDatabase().PingAsync(); // what the connection sent before has run
        var taken = await LeasesAsync(other, keys);
        Assert.Equal(keys.Length, taken.Length); // before, Redis took them after the caller left, and they stayed held
        await other.Lease.ReleaseManyAsync(taken);
    }

    private static async Task<LeaseHandle[]> LeasesAsync(RedisSecondLevel level, string[] keys) =>
        [.. (await level.Lease.TryAcquireManyAsync(keys)).Where(l => l.Status == LeaseStatus.Acquired).Select(l => l.Handle!)];
}
