using StackExchange.Redis;

namespace SecretsCache.Redis.Connection;

/// <summary>
/// One channel's subscription with one handler, registered exactly once. StackExchange.Redis keeps a subscription it was
/// asked for even when Redis is down, and makes (and remakes) it whenever it connects: so a failure at start needs no
/// retry, and a retry would add the handler twice. The attempt bypasses the breaker for that reason (it must reach the
/// client library even while Redis is failing), and may take up to the connect timeout.
/// </summary>
internal sealed class RedisSubscription(RedisConnection connection, RedisChannel channel, Action<RedisValue> onMessage, string operation)
{
    private int _registered;

    /// <summary>Whether Redis holds the subscription now (it may not yet, or not while disconnected).</summary>
    public bool IsActive => Volatile.Read(ref _registered) == 1 && connection.Subscriber.SubscribedEndpoint(channel) is not null;

    public async ValueTask StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1)
        {
            return;
        }

        await connection.Guard.RunBypassingBreakerAsync(
            operation, this,
            static async self =>
            {
                await self.SubscribeCoreAsync().ConfigureAwait(false);
                return true;
            },
            connection.Options.ConnectTimeout,
            cancellationToken).ConfigureAwait(false);
    }

    private Task SubscribeCoreAsync() => connection.Subscriber.SubscribeAsync(channel, (_, value) => onMessage(value));
}
