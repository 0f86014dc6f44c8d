using SecretsCache.Redis.Connection;
using SecretsCache.Redis.Diagnostics;
using StackExchange.Redis;

namespace SecretsCache.Redis.Lease;

/// <summary>What a lease holder announced when it finished.</summary>
internal enum LeaseOutcome : byte
{
    /// <summary>Nothing came within the wait bound (or Redis could not deliver it).</summary>
    TimedOut = 0,

    /// <summary>The holder fetched and wrote the second level: read it.</summary>
    Fetched = 1,

    /// <summary>The holder's fetch failed: fetch yourself.</summary>
    Failed = 2,
}

/// <summary>
/// The lease holders' results, on one channel per namespace (<c>sc:{ns}:done</c>), subscribed once per connection.
/// A message is a format byte, the outcome and the key's HMAC: no name, no value. A forged message can only end a wait
/// early, and a waiter that then finds no entry fetches itself, within the rate limit.
/// </summary>
internal sealed class LeaseResults
{
    private readonly RedisConnection _connection;
    private const byte Format = 1;
    private const int MessageLength = 2 + 32;
    private readonly Dictionary<string, List<LeaseWait>> _waiting = new(StringComparer.Ordinal); // Under its own lock: waits are rare (contention only).
    private readonly RedisSubscription _subscription;

    public LeaseResults(RedisConnection connection)
    {
        _connection = connection;
        _subscription = new RedisSubscription(connection, _connection.Names.LeaseResultChannel, OnMessage, "lease_subscribe");
    }

    /// <summary>How many waits are registered now (for tests and diagnostics).</summary>
    public int Waiting
    {
        get
        {
            lock (_waiting)
            {
                return _waiting.Values.Sum(w => w.Count);
            }
        }
    }

    /// <summary>Whether results can arrive now; when not, a waiter fetches itself instead of waiting for nothing.</summary>
    public bool IsSubscribed => _subscription.IsActive;

    /// <summary>Subscribes, once: when Redis is down, StackExchange.Redis subscribes as soon as it connects.</summary>
    public ValueTask SubscribeAsync(CancellationToken cancellationToken = default) => _subscription.StartAsync(cancellationToken);

    /// <summary>
    /// Registers a wait for <paramref name="hash"/>'s result. Register before the last look at the second level, so a result
    /// published in between is not missed.
    /// </summary>
    public LeaseWait Register(byte[] hash)
    {
        var wait = new LeaseWait(this, Convert.ToBase64String(hash));
        lock (_waiting)
        {
            if (!_waiting.TryGetValue(wait.Key, out var list))
            {
                _waiting[wait.Key] = list = [];
            }

            list.Add(wait);
        }

        return wait;
    }

    public async ValueTask<bool> PublishAsync(byte[] hash, LeaseOutcome outcome, CancellationToken cancellationToken = default)
    {
        var message = new byte[MessageLength];
        message[0] = Format;
        message[1] = (byte)outcome;
        hash.CopyTo(message, 2);
        var published = await _connection.Guard.RunAsync(
            "lease_publish", (subscriber: _connection.Subscriber, channel: _connection.Names.LeaseResultChannel, message),
            static s => s.subscriber.PublishAsync(s.channel, s.message),
            cancellationToken).ConfigureAwait(false);
        return published.Ok;
    }

    internal void Unregister(LeaseWait wait)
    {
        lock (_waiting)
        {
            if (_waiting.TryGetValue(wait.Key, out var list) && list.Remove(wait) && list.Count == 0)
            {
                _waiting.Remove(wait.Key);
            }
        }
    }

    private void OnMessage(RedisValue value)
    {
        // Every byte from Redis is hostile: exactly the length and format, a known outcome, or dropped.
        var bytes = (byte[]?)value;
        if (bytes is not { Length: MessageLength } || bytes[0] != Format || bytes[1] is not ((byte)LeaseOutcome.Fetched or (byte)LeaseOutcome.Failed))
        {
            RedisLog.MessageRejected(_connection.Logger, "lease result");
            return;
        }

        LeaseWait[] waits;
        lock (_waiting)
        {
            if (!_waiting.TryGetValue(Convert.ToBase64String(bytes, 2, 32), out var list))
            {
                return;
            }

            waits = [.. list];
        }

        foreach (var wait in waits)
        {
            wait.Complete((LeaseOutcome)bytes[1]);
        }
    }
}

/// <summary>One registered wait for a lease holder's result; dispose it to unregister.</summary>
internal sealed class LeaseWait : IDisposable
{
    private readonly LeaseResults _owner;
    private readonly TaskCompletionSource<LeaseOutcome> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal LeaseWait(LeaseResults owner, string key)
    {
        _owner = owner;
        Key = key;
    }

    internal string Key { get; }

    /// <summary>The holder's outcome, or <see cref="LeaseOutcome.TimedOut"/> after <paramref name="bound"/>.</summary>
    public async ValueTask<LeaseOutcome> WaitAsync(TimeSpan bound, TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            return await _result.Task.WaitAsync(bound, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return LeaseOutcome.TimedOut;
        }
    }

    public void Dispose() => _owner.Unregister(this);

    internal void Complete(LeaseOutcome outcome) => _result.TrySetResult(outcome);
}
