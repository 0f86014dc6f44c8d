using Microsoft.Extensions.Logging;
using SecretsCache.Redis.Diagnostics;
using SecretsCache.Redis.Encryption;
using StackExchange.Redis;

namespace SecretsCache.Redis.Connection;

/// <summary>
/// One connection to Redis (a StackExchange.Redis multiplexer, which reconnects by itself) and what every primitive on it
/// shares: the breaker, the names, the keys, the clock, the instruments. Connecting never fails: a Redis that is down at
/// start-up is a connection that is not up yet.
/// </summary>
internal sealed class RedisConnection : IAsyncDisposable
{
    private RedisConnection(RedisL2Options options, IConnectionMultiplexer multiplexer, EncryptionKeys keys, TimeProvider time, RedisL2Metrics metrics, ILogger logger)
    {
        Options = options;
        Multiplexer = multiplexer;
        Keys = keys;
        Time = time;
        Metrics = metrics;
        Logger = logger;
        Names = new RedisNames(options.Namespace);
        Watch = new ConnectionWatch(multiplexer);
        Guard = NewGuard(GuardedCalls.Entries);
        LimitGuard = NewGuard(GuardedCalls.FleetLimit);

        // Every guard of this connection skips calls while it is known down, and closes its breaker when it is back.
        RedisGuard NewGuard(GuardedCalls calls)
        {
            var guard = new RedisGuard(options.CircuitBreaker, options.OperationTimeout, time, metrics, logger, calls, () => Watch.IsDown);
            Watch.Restored += guard.Close;
            return guard;
        }
    }

    public RedisL2Options Options { get; }

    public IConnectionMultiplexer Multiplexer { get; }

    public IDatabase Database => Multiplexer.GetDatabase();

    public ISubscriber Subscriber => Multiplexer.GetSubscriber();

    public RedisGuard Guard { get; }

    /// <summary>
    /// The guard of the fleet limiter's calls (the bucket's script, the presence count): a breaker of its own, so entry reads
    /// that time out in a burst (large replies, many of them) do not send the limiter to the static share while its own small
    /// calls are answered. A Redis that fails fails both, each after its own few calls.
    /// </summary>
    public RedisGuard LimitGuard { get; }

    /// <summary>Whether the connection is known to be down, and when it comes back.</summary>
    public ConnectionWatch Watch { get; }

    public RedisNames Names { get; }

    public EncryptionKeys Keys { get; }

    public TimeProvider Time { get; }

    public RedisL2Metrics Metrics { get; }

    public ILogger Logger { get; }

    public string Namespace => Names.Namespace;

    /// <summary>Connects (or starts reconnecting in the background when Redis is not reachable yet); throws only for invalid options.</summary>
    public static async Task<RedisConnection> ConnectAsync(
        RedisL2Options options, EncryptionKeys keys, string? password, TimeProvider time, RedisL2Metrics metrics, ILogger logger)
    {
        options.ThrowIfInvalid();
        var configuration = RedisConfiguration.Build(options, password);
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        return new RedisConnection(options, multiplexer, keys, time, metrics, logger);
    }

    public async ValueTask DisposeAsync()
    {
        Watch.Dispose();
        await Multiplexer.DisposeAsync().ConfigureAwait(false);
    }
}
