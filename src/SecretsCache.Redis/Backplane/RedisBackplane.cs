using SecretsCache.Redis.Connection;
using SecretsCache.Redis.Diagnostics;
using SecretsCache.Redis.Encryption;
using StackExchange.Redis;

namespace SecretsCache.Redis.Backplane;

/// <summary>A message from another instance, resolved to the canonical keys this instance holds.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Keys">The keys it concerns here, with their version ids (empty for <see cref="BackplaneKind.InvalidatedAll"/>).</param>
internal sealed record BackplaneEvent(BackplaneKind Kind, IReadOnlyList<(string CanonicalKey, string? Version)> Keys);

/// <summary>
/// Publishes version changes, invalidations and refreshes to every instance of the namespace (<c>sc:{ns}:bp</c>) and
/// delivers theirs, so each updates its L1. Its own messages, forged ones, replayed or stale ones (<see cref="MessageScreen"/>)
/// and keys it does not hold are ignored. Publishing and subscribing never throw; a message under a key id this instance
/// lacks makes it reload the key secret.
/// </summary>
internal sealed class RedisBackplane
{
    private readonly RedisConnection _connection;
    private readonly KnownKeys _known = new();
    private readonly MessageScreen _screen;
    private readonly RedisSubscription _subscription;

    public RedisBackplane(RedisConnection connection)
    {
        _connection = connection;
        _screen = new MessageScreen(connection, "backplane");
        _subscription = new RedisSubscription(connection, connection.Names.BackplaneChannel, OnMessage, "backplane_subscribe");
    }

    /// <summary>This instance's id: its own messages come back from Redis and are dropped by it.</summary>
    public Guid InstanceId { get; } = Guid.NewGuid();

    /// <summary>Raised for each message of another instance that concerns a key held here (or all keys).</summary>
    public event EventHandler<BackplaneEvent>? Received;

    /// <summary>Whether Redis holds the subscription now.</summary>
    public bool IsSubscribed => _subscription.IsActive;

    /// <summary>Subscribes, once: when Redis is down, StackExchange.Redis subscribes as soon as it connects.</summary>
    public ValueTask SubscribeAsync(CancellationToken cancellationToken = default) => _subscription.StartAsync(cancellationToken);

    /// <summary>How many message ids are remembered to refuse replays (at most <see cref="ReplayGuard.Capacity"/>).</summary>
    public int RememberedMessages => _screen.Remembered;

    /// <summary>How many keys messages are resolved against (at most the L1's entries).</summary>
    public int TrackedCount => _known.Count;

    /// <summary>Whether messages about <paramref name="canonicalKey"/> reach this instance's L1.</summary>
    public bool IsTracked(string canonicalKey) => _known.Contains(canonicalKey);

    /// <summary>
    /// Tells the backplane this instance holds <paramref name="canonicalKey"/> (its L1 has an entry); <paramref name="held"/>,
    /// the L1's own answer, is asked under the backplane's lock, so a key the L1 dropped meanwhile is not kept.
    /// </summary>
    public void Track(string canonicalKey, Func<string, bool>? held = null) => _known.Track(canonicalKey, held);

    /// <summary>The L1 dropped <paramref name="canonicalKey"/>: messages about it no longer concern this instance (unless <paramref name="held"/> says the L1 holds it again).</summary>
    public void Untrack(string canonicalKey, Func<string, bool>? held = null) => _known.Untrack(canonicalKey, held);

    /// <summary>Publishes <paramref name="kind"/> for the keys (by HMAC) with their versions; false when Redis could not take it.</summary>
    public async ValueTask<bool> PublishAsync(BackplaneKind kind, IReadOnlyCollection<(string CanonicalKey, string? Version)> keys, CancellationToken cancellationToken = default)
    {
        if (_connection.Keys.Ring is not { } ring)
        {
            return false;
        }

        var items = keys.Select(k => new BackplaneItem(RedisNames.Hash(ring.Current, k.CanonicalKey), k.Version)).ToArray();
        var ok = true;
        var chunks = kind == BackplaneKind.InvalidatedAll ? [[]] : items.Chunk(BackplaneCodec.MaxItems).ToArray();
        foreach (var chunk in chunks)
        {
            byte[] message;
            try
            {
                message = BackplaneCodec.Encode(ring.Current, kind, InstanceId, chunk, _connection.Time.GetUtcNow());
            }
            catch (ArgumentException)
            {
                ok = false; // A version id longer than AWS allows: nothing to announce.
                continue;
            }

            var published = await _connection.Guard.RunAsync(
                "backplane_publish", (subscriber: _connection.Subscriber, channel: _connection.Names.BackplaneChannel, message),
                static s => s.subscriber.PublishAsync(s.channel, s.message),
                cancellationToken).ConfigureAwait(false);
            ok &= published.Ok;
            if (published.Ok)
            {
                _connection.Metrics.Message("sent", KindTag(kind));
            }
        }

        return ok;
    }

    public ValueTask<bool> PublishInvalidateAllAsync(CancellationToken cancellationToken = default) =>
        PublishAsync(BackplaneKind.InvalidatedAll, [], cancellationToken);

    internal void OnMessage(RedisValue value)
    {
        if (_connection.Keys.Ring is not { } ring || (byte[]?)value is not { } bytes)
        {
            return;
        }

        var (message, rejection, opened) = BackplaneCodec.Decode(ring, bytes);
        if (message is not null && message.Sender == InstanceId)
        {
            return; // Its own (authentic) message, back from Redis: nothing to apply, no id to remember.
        }

        if (!_screen.Admit(rejection, opened))
        {
            _connection.Metrics.Message("received", "rejected");
            return;
        }

        _connection.Metrics.Message("received", KindTag(message!.Kind));
        var key = ring.Find(message.KeyId)!;
        _known.Prune(ring);
        var keys = new List<(string, string?)>(message.Items.Count);
        foreach (var item in message.Items)
        {
            if (_known.Resolve(key, item.Hash) is { } canonicalKey)
            {
                keys.Add((canonicalKey, item.Version));
            }
        }

        if (keys.Count == 0 && message.Kind != BackplaneKind.InvalidatedAll)
        {
            return;
        }

        if (Received is not { } handlers)
        {
            return;
        }

        var received = new BackplaneEvent(message.Kind, keys);
        foreach (var handler in handlers.GetInvocationList().Cast<EventHandler<BackplaneEvent>>())
        {
            try
            {
                handler(this, received);
            }
#pragma warning disable CA1031 // A subscriber's bug must not stop delivery to the others, nor reach Redis's thread.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                RedisLog.SubscriberFailed(_connection.Logger, ex);
            }
        }
    }

    private static string KindTag(BackplaneKind kind) => kind switch
    {
        BackplaneKind.Changed => "changed",
        BackplaneKind.Invalidated => "invalidated",
        BackplaneKind.InvalidatedAll => "invalidated_all",
        _ => "refreshed",
    };
}
