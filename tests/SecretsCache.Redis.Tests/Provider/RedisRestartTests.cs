using SecretsCache.Redis.Tests.Support;
using SecretsCache.Testing;
using StackExchange.Redis;

namespace SecretsCache.Redis.Tests.Provider;

/// <summary>Redis killed and restarted under whole providers: no caller sees an error, and the second level comes back by itself.</summary>
public sealed class RedisRestartTests : IAsyncLifetime
{
    private const string GetSecretValue = "secretsmanager.GetSecretValue";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private AwsEmulator _aws = null!;
    private RedisServer _server = null!;
    private FleetProviders _fleet = null!;

    public async Task InitializeAsync()
    {
        _aws = await AwsEmulator.StartAsync();
        _server = await RedisServer.StartNewAsync();
        _fleet = new FleetProviders(_server, _aws);
    }

    public async Task DisposeAsync()
    {
        _fleet.Dispose();
        await _server.DisposeAsync();
        await _aws.DisposeAsync();
    }

    private static void FastBreaker(RedisL2Options o)
    {
        o.OperationTimeout = TimeSpan.FromSeconds(1);
        o.ConnectTimeout = TimeSpan.FromSeconds(2);
        o.CircuitBreaker.MinimumThroughput = 2;
        o.CircuitBreaker.BreakDuration = TimeSpan.FromMilliseconds(500);
        o.FleetRateLimits.FallbackFleetSize = 1;
    }

    [RedisFact]
    public async Task Redis_killed_and_restarted_mid_run_costs_callers_no_error_and_the_second_level_resumes()
    {
        for (var i = 0; i < 4; i++)
        {
            _aws.CreateSecret($"app/s{i}", $"value-{i}");
        }

        var a = await _fleet.StartAsync(configureRedis: FastBreaker);
        var b = await _fleet.StartAsync(configureRedis: FastBreaker);
        Assert.Equal("value-0", await a.GetStringAsync("app/s0"));
        Assert.Equal("value-0", await b.GetStringAsync("app/s0"));
        Assert.Equal(1, _aws.Requests.Count(GetSecretValue));
        var restored = Restored(FleetProviders.LevelOf(a), FleetProviders.LevelOf(b));

        await _server.KillAsync();

        // Reads, forced refreshes, warm-ups and invalidations all work, from L1 and AWS.
        Assert.Equal("value-1", await a.GetStringAsync("app/s1"));
        Assert.Equal("value-1", await b.GetStringAsync("app/s1"));
        Assert.Equal("value-0", (await b.RefreshAsync("app/s0")).GetString());
        Assert.Equal(2, (await a.WarmUpAsync(["app/s2", "app/s3"])).Loaded);
        a.Invalidate("app/s0");
        b.InvalidateAll();
        Assert.Equal("value-0", await a.GetStringAsync("app/s0"));
        Assert.Equal("value-3", await b.GetStringAsync("app/s3"));

        await _server.StartAsync(); // same port, empty
        await restored.WaitAsync(Bound);

        // Once the breaker lets calls through again, what a fetches from AWS is in Redis for b, and a third provider starts on it.
        await EventuallyAsync(async () =>
        {
            a.Invalidate("app/s2");
            await a.GetStringAsync("app/s2");
            return (await FleetProviders.LevelOf(b).Store.ReadAsync("sm:app/s2")).IsHit;
        });
        var c = await _fleet.StartAsync(configureRedis: FastBreaker);
        var calls = _aws.Requests.Count(GetSecretValue);
        Assert.Equal("value-2", await c.GetStringAsync("app/s2"));
        Assert.Equal(calls, _aws.Requests.Count(GetSecretValue));
    }

    /// <summary>Completes when every level's connection is restored (StackExchange.Redis's ConnectionRestored), registered before the kill.</summary>
    internal static Task Restored(params RedisSecondLevel[] levels) => Task.WhenAll(levels.Select(level =>
    {
        var restored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        level.Connection.Multiplexer.ConnectionRestored += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Interactive)
            {
                restored.TrySetResult();
            }
        };
        return restored.Task;
    }));

    /// <summary>Retries a condition that holds once the breaker's pause is over; bounded in count and time.</summary>
    private static async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 100; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System);
        }

        throw new TimeoutException("The second level did not resume within about 10 s of the reconnect.");
    }
}
