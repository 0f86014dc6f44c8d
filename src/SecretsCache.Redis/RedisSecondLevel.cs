using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecretsCache.Redis.Backplane;
using SecretsCache.Redis.Connection;
using SecretsCache.Redis.Diagnostics;
using SecretsCache.Redis.Encryption;
using SecretsCache.Redis.FleetLimit;
using SecretsCache.Redis.Lease;
using SecretsCache.Redis.Storage;

namespace SecretsCache.Redis;

/// <summary>
/// Everything the second level is, on one connection: the encrypted store, the fleet-wide single-flight, the backplane and
/// the fleet-wide rate limit. A provider composes it through <see cref="Composition.RedisComposition"/>. Creating it never fails for Redis being down, nor for the key secret being
/// unreadable (the level then answers every read with a miss); only invalid options throw.
/// </summary>
internal sealed class RedisSecondLevel : IAsyncDisposable, IDisposable
{
    private readonly RedisL2Metrics _metrics;
    private int _disposed;

    private RedisSecondLevel(RedisConnection connection, RedisL2Metrics metrics)
    {
        Connection = connection;
        _metrics = metrics;
        Store = new RedisL2Store(connection);
        Lease = new FleetLease(connection);
        LeaseResults = new LeaseResults(connection);
        ReadOrLease = new ReadOrLease(connection, Store, Lease);
        SingleFlight = new FleetSingleFlight(connection, Store, Lease, LeaseResults, ReadOrLease);
        Waves = new SingleFlightWaves(SingleFlight);
        Backplane = new RedisBackplane(connection);
        FleetLimiter = new FleetRateLimiter(connection, connection.Options.FleetRateLimits);
    }

    public RedisConnection Connection { get; }

    public RedisL2Store Store { get; }

    public FleetLease Lease { get; }

    public LeaseResults LeaseResults { get; }

    public FleetSingleFlight SingleFlight { get; }

    /// <summary>The single-flight for fetches no caller waits on (refresh-aheads, backplane re-reads): in waves of the keys that come due together.</summary>
    internal SingleFlightWaves Waves { get; }

    /// <summary>A warm-up's first step: the reads of many keys and the leases of those absent, in one round trip where Redis allows.</summary>
    internal ReadOrLease ReadOrLease { get; }

    public RedisBackplane Backplane { get; }

    public FleetRateLimiter FleetLimiter { get; }

    /// <summary>Whether a fetch can use the fleet's lease now: connected, and subscribed to the lease holders' results.</summary>
    public bool IsUp => !Connection.Watch.IsDown && LeaseResults.IsSubscribed;

    /// <summary>
    /// Waits until the connection is up, at most <paramref name="bound"/> (on the level's clock), woken by each reconnect, so
    /// a wait costs nothing while Redis stays down; then, if the lease holders' results are not subscribed again yet, one
    /// round trip on the subscriber connection, which StackExchange.Redis's own resubscription precedes. Whether it is up.
    /// </summary>
    public async ValueTask<bool> WaitUntilUpAsync(TimeSpan bound, CancellationToken cancellationToken)
    {
        var time = Connection.Time;
        var started = time.GetTimestamp();
        while (Connection.Watch.IsDown)
        {
            var restored = Connection.Watch.NextRestore; // before the check: a reconnect in between completes it
            var left = bound - time.GetElapsedTime(started);
            if (!Connection.Watch.IsDown || left <= TimeSpan.Zero)
            {
                break;
            }

            try
            {
                await restored.WaitAsync(left, time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                break;
            }
        }

        if (!Connection.Watch.IsDown && !LeaseResults.IsSubscribed)
        {
            await Connection.Guard.RunAsync(
                "subscriber_ping", Connection.Subscriber, static s => s.PingAsync(), cancellationToken).ConfigureAwait(false);
        }

        return IsUp;
    }

    /// <summary>
    /// Connects and subscribes. <paramref name="keyProvider"/> reads <see cref="RedisL2Options.EncryptionKeySecret"/> and
    /// <see cref="RedisL2Options.PasswordSecret"/>: a provider without this second level, so the key never passes through Redis.
    /// </summary>
    public static async Task<RedisSecondLevel> CreateAsync(
        RedisL2Options options,
        ISecretProvider? keyProvider = null,
        TimeProvider? time = null,
        ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        if ((options.EncryptionKeySecret is not null || options.PasswordSecret is not null) && keyProvider is null)
        {
            throw new SecretsConfigurationException("EncryptionKeySecret and PasswordSecret need a provider to read them (one without the Redis second level).");
        }

        time ??= TimeProvider.System;
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("SecretsCache.Redis");
        var keys = options.EncryptionKeySecret is { } secret
            ? await EncryptionKeys.FromSecretAsync(options.Namespace, secret, keyProvider!, options.KeyReloadInterval, time, logger, cancellationToken).ConfigureAwait(false)
            : EncryptionKeys.FromBytes(options.Namespace, options.EncryptionKey.Span, options.PreviousEncryptionKeys, logger);
        var password = options.PasswordSecret is { } reference ? await ReadPasswordAsync(keyProvider!, reference, logger, cancellationToken).ConfigureAwait(false) : null;
        var metrics = new RedisL2Metrics(meterFactory);
        var connection = await RedisConnection.ConnectAsync(options, keys, password, time, metrics, logger).ConfigureAwait(false);
        var level = new RedisSecondLevel(connection, metrics);
        try
        {
            await SubscriptionConnectedAsync(connection, cancellationToken).ConfigureAwait(false);
            await level.Backplane.SubscribeAsync(cancellationToken).ConfigureAwait(false);
            await level.LeaseResults.SubscribeAsync(cancellationToken).ConfigureAwait(false);
            if (level.FleetLimiter.Presence is { } presence)
            {
                await presence.RefreshAsync(cancellationToken).ConfigureAwait(false); // then every FleetPresence.Interval
            }
        }
        catch
        {
            level.Dispose(); // cancelled while being made: its connection and timers go with it
            throw;
        }

        return level;
    }

    /// <summary>
    /// Waits, at most <see cref="RedisL2Options.ConnectTimeout"/>, for the subscription connection when the interactive one is
    /// up. The connect returns before it (the configuration channel is off, so nothing waits for it there), and a SUBSCRIBE
    /// sent before it fails at once: the level would start without its lease results and backplane, and count two errors.
    /// Real time, as the connect itself: the provider's clock may be a test's, which nothing moves here.
    /// </summary>
    private static async Task SubscriptionConnectedAsync(RedisConnection connection, CancellationToken cancellationToken)
    {
        var started = TimeProvider.System.GetTimestamp();
        while (!connection.Watch.IsDown && !connection.Subscriber.IsConnected()
            && TimeProvider.System.GetElapsedTime(started) < connection.Options.ConnectTimeout)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        FleetLimiter.Dispose();
        await Connection.DisposeAsync().ConfigureAwait(false);
        Connection.Keys.Dispose();
        _metrics.Dispose();
    }

    /// <summary>Closes the connection at once (a provider's <see cref="IDisposable.Dispose"/>).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        FleetLimiter.Dispose();
        Connection.Watch.Dispose();
        Connection.Multiplexer.Dispose();
        Connection.Keys.Dispose();
        _metrics.Dispose();
    }

    private static async Task<string?> ReadPasswordAsync(ISecretProvider provider, string reference, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            return (await provider.GetAsync(reference, cancellationToken).ConfigureAwait(false)).GetString();
        }
        catch (SecretsCacheException ex)
        {
            // Without it Redis refuses every command: the breaker opens and reads go to AWS, as without a second level.
            RedisLog.KeyReloadFailed(logger, ex.ErrorCode ?? ex.GetType().Name);
            return null;
        }
    }
}
