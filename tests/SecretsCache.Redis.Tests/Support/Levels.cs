using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace SecretsCache.Redis.Tests.Support;

/// <summary>Second levels for tests: one per simulated instance, each on a connection (multiplexer) of its own.</summary>
internal static class Levels
{
    public static string NewNamespace() => "t" + Guid.NewGuid().ToString("N")[..12];

    public static byte[] NewKey() => RandomNumberGenerator.GetBytes(RedisL2Options.KeyLength);

    public static RedisL2Options Options(string configuration, string @namespace, byte[] key, Action<RedisL2Options>? configure = null)
    {
        // A generous call budget: on a loaded CI machine (both target frameworks' suites at once) a call to a healthy local
        // Redis can take longer than the 250 ms default, and a timed-out call is a miss. Tests of slow or dead Redis set their own.
        var options = new RedisL2Options { Configuration = configuration, Namespace = @namespace, EncryptionKey = key, OperationTimeout = TimeSpan.FromSeconds(5) };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>A level on <paramref name="server"/>, returned once Redis holds its subscriptions (so no message is published before).</summary>
    public static async Task<RedisSecondLevel> CreateAsync(
        RedisServer server, string @namespace, byte[] key, Action<RedisL2Options>? configure = null, TimeProvider? time = null,
        IMeterFactory? meters = null, ILoggerFactory? loggers = null, ISecretProvider? keyProvider = null, bool waitForSubscriptions = true)
    {
        server.EnsureRunning();
        var level = await RedisSecondLevel.CreateAsync(Options(server.Configuration, @namespace, key, configure), keyProvider, time, loggers, meters);
        if (waitForSubscriptions)
        {
            await SubscribedAsync(level);
        }

        return level;
    }

    /// <summary>Waits (bounded) until Redis holds both subscriptions of <paramref name="level"/>.</summary>
    public static async Task SubscribedAsync(RedisSecondLevel level)
    {
        for (var i = 0; i < 2_000 && !(level.Backplane.IsSubscribed && level.LeaseResults.IsSubscribed); i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System);
        }
    }

    /// <summary>Several instances of one fleet: same namespace, same key, one connection each.</summary>
    public static async Task<RedisSecondLevel[]> FleetAsync(
        RedisServer server, int count, string @namespace, byte[] key, Action<RedisL2Options>? configure = null, TimeProvider? time = null)
    {
        var levels = new RedisSecondLevel[count];
        for (var i = 0; i < count; i++)
        {
            levels[i] = await CreateAsync(server, @namespace, key, configure, time);
        }

        return levels;
    }

    /// <summary>What <paramref name="step"/> returned, and how many commands <paramref name="level"/>'s connection sent for it.</summary>
    public static async Task<(T Value, long Commands)> CommandsAsync<T>(RedisSecondLevel level, Func<Task<T>> step)
    {
        var before = level.Connection.Multiplexer.GetCounters().Interactive.OperationCount;
        var value = await step();
        return (value, level.Connection.Multiplexer.GetCounters().Interactive.OperationCount - before);
    }

    public static async Task DisposeAllAsync(IEnumerable<RedisSecondLevel> levels)
    {
        foreach (var level in levels)
        {
            await level.DisposeAsync();
        }
    }

    public static Secret Secret(string name, string value, string? versionId, DateTimeOffset fetchedAt) =>
        new(name, value) { VersionId = versionId, VersionStages = ["AWSCURRENT"], FetchedAt = fetchedAt, Arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:" + name + "-AbCdEf" };
}

/// <summary>A fake clock that says when a timer is created, so a test advances time only once a wait is really waiting.</summary>
internal sealed class SignallingTimeProvider : FakeTimeProvider
{
    private readonly List<(TimeSpan DueTime, TaskCompletionSource Created)> _watches = [];

    public SignallingTimeProvider()
        : base(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero))
    {
    }

    public SignallingTimeProvider(DateTimeOffset start)
        : base(start)
    {
    }

    /// <summary>Completes when a timer due in exactly <paramref name="dueTime"/> is created (from now on).</summary>
    public Task WhenTimerCreated(TimeSpan dueTime)
    {
        var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_watches)
        {
            _watches.Add((dueTime, created));
        }

        return created.Task;
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        TaskCompletionSource[] due;
        lock (_watches)
        {
            due = [.. _watches.Where(w => w.DueTime == dueTime).Select(w => w.Created)];
            _watches.RemoveAll(w => w.DueTime == dueTime);
        }

        foreach (var created in due)
        {
            created.TrySetResult();
        }

        return timer;
    }
}
