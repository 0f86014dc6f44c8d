using System.Text;
using SecretsCache.Redis.Connection;
using SecretsCache.Redis.Encryption;
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

    /// <summary>
    /// Not an outcome: the holder is alive and still fetching (queued in the fleet's rate limit, most likely, where a fetch of
    /// the waiter's own would queue behind it). A wait that hears it goes on for another <see cref="RedisL2Options.LeaseWaitTimeout"/>.
    /// </summary>
    Working = 3,
}

/// <summary>
/// The lease holders' results, on one channel per namespace (<c>sc:{ns}:done</c>), subscribed once per connection. A
/// waiter does more than wake up on one: "failed", or "fetched" with no entry to read, sends it to AWS itself. So a result
/// is a <see cref="SealedMessage"/> (outcome as its type, the key's HMAC as its body: no name, no value) and is applied only
/// if authentic, fresh and new (<see cref="MessageScreen"/>); a forged or replayed one is dropped and the wait goes on.
/// The results received are remembered for one lease duration, for waits registered after them (<see cref="Register"/>);
/// a holder's "still fetching" (<see cref="LeaseOutcome.Working"/>) travels the same way and starts its waits' bound again.
/// </summary>
internal sealed class LeaseResults
{
    /// <summary>The most results remembered at once (<see cref="Register"/>): far more than a fleet announces in one lease duration.</summary>
    public const int RecentCapacity = 2_048;

    /// <summary>The most keys one result message names: results of a warm-up's keys travel together, not one message each.</summary>
    public const int MaxKeysPerMessage = 100;

    private const int HashSize = 32, MessageLength = SealedMessage.Overhead + HashSize, MaxMessageLength = SealedMessage.Overhead + (MaxKeysPerMessage * HashSize);
    internal static readonly byte[] Label = Encoding.UTF8.GetBytes("secretscache-redis/v2/lease-result");
    private readonly RedisConnection _connection;
    private readonly Dictionary<string, List<LeaseWait>> _waiting = new(StringComparer.Ordinal); // Under its own lock, which every result message takes too (once for all its keys).
    private readonly Dictionary<string, (LeaseOutcome Outcome, long At)> _recent = new(StringComparer.Ordinal); // Under _waiting's lock.
    private readonly Queue<(string Key, long At)> _recentOrder = new();
    private long _progressHeard;
    private readonly MessageScreen _screen;
    private readonly RedisSubscription _subscription;

    public LeaseResults(RedisConnection connection)
    {
        _connection = connection;
        _screen = new MessageScreen(connection, "lease result");
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

    /// <summary>How many "still fetching" messages of holders this connection has heard (for tests and diagnostics).</summary>
    public long ProgressHeard
    {
        get
        {
            lock (_waiting)
            {
                return _progressHeard;
            }
        }
    }

    /// <summary>How many results are remembered now (at most <see cref="RecentCapacity"/>, none older than a lease duration).</summary>
    public int Remembered
    {
        get
        {
            lock (_waiting)
            {
                ForgetOld();
                return _recent.Count;
            }
        }
    }

    /// <summary>
    /// Registers a wait for <paramref name="hash"/>'s result. Register before the last look at the second level, so a result
    /// published in between is not missed. A result that came after <paramref name="askedAt"/> (the <see cref="TimeProvider"/>
    /// timestamp taken before this instance asked for the lease and heard that it is held) ends the wait at once: it is that
    /// holder's, or a later one's, and the look at the second level that would have found its entry may go unanswered.
    /// </summary>
    public LeaseWait Register(byte[] hash, long askedAt)
    {
        var wait = new LeaseWait(this, Convert.ToBase64String(hash));
        lock (_waiting)
        {
            if (!_waiting.TryGetValue(wait.Key, out var list))
            {
                _waiting[wait.Key] = list = [];
            }

            list.Add(wait);
            ForgetOld();
            if (_recent.TryGetValue(wait.Key, out var came) && came.At > askedAt)
            {
                wait.Complete(came.Outcome);
            }
        }

        return wait;
    }

    /// <summary>A result as it goes to Redis: <paramref name="outcome"/> for the key <paramref name="hash"/> names, sealed under <paramref name="key"/>.</summary>
    public static byte[] Encode(RingKey key, LeaseOutcome outcome, byte[] hash, DateTimeOffset sentAt) => Encode(key, outcome, [hash], sentAt);

    /// <summary>
    /// One outcome for up to <see cref="MaxKeysPerMessage"/> keys, in one sealed message (a message of one key is the format
    /// older builds read; they drop one of many as malformed, and their waits end by their bound).
    /// </summary>
    public static byte[] Encode(RingKey key, LeaseOutcome outcome, IReadOnlyList<byte[]> hashes, DateTimeOffset sentAt)
    {
        if (hashes.Count is 0 or > MaxKeysPerMessage || hashes.Any(h => h.Length != HashSize))
        {
            throw new ArgumentException($"A result names 1 to {MaxKeysPerMessage} key hashes of 32 bytes.", nameof(hashes));
        }

        return SealedMessage.Seal(key, Label, (byte)outcome, sentAt, [.. hashes.SelectMany(h => h)]);
    }

    /// <summary>Decodes and authenticates a result from Redis; every byte is hostile, and nothing here throws.</summary>
    public static (LeaseOutcome Outcome, byte[][]? Hashes, MessageRejection Rejection, OpenedMessage Opened) Decode(KeyRing ring, ReadOnlySpan<byte> data)
    {
        var rejection = SealedMessage.Open(ring, Label, data, MaxMessageLength, out var opened);
        if (rejection == MessageRejection.None
            && (data.Length < MessageLength || (data.Length - SealedMessage.Overhead) % HashSize != 0
                || opened.Type is not ((byte)LeaseOutcome.Fetched or (byte)LeaseOutcome.Failed or (byte)LeaseOutcome.Working)))
        {
            rejection = MessageRejection.Malformed;
        }

        if (rejection != MessageRejection.None)
        {
            return (LeaseOutcome.TimedOut, null, rejection, opened);
        }

        var body = SealedMessage.Body(data);
        var hashes = new byte[body.Length / HashSize][];
        for (var i = 0; i < hashes.Length; i++)
        {
            hashes[i] = body.Slice(i * HashSize, HashSize).ToArray();
        }

        return ((LeaseOutcome)opened.Type, hashes, rejection, opened);
    }

    /// <summary>Announces <paramref name="outcome"/> for the key <paramref name="hash"/> names; false when there is no key yet or Redis could not take it.</summary>
    public async ValueTask<bool> PublishAsync(byte[] hash, LeaseOutcome outcome, CancellationToken cancellationToken = default) =>
        await PublishManyAsync([(hash, outcome)], cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Announces every result of <paramref name="results"/> in one guarded round trip, one message per outcome and
    /// <see cref="MaxKeysPerMessage"/> keys (every subscriber of the fleet opens each message); false when there is no key
    /// yet or Redis could not take them.
    /// </summary>
    public async ValueTask<bool> PublishManyAsync(IReadOnlyList<(byte[] Hash, LeaseOutcome Outcome)> results, CancellationToken cancellationToken = default)
    {
        if (_connection.Keys.Ring is not { } ring || results.Count == 0)
        {
            return false;
        }

        var sentAt = _connection.Time.GetUtcNow();
        var messages = results.GroupBy(r => r.Outcome)
            .SelectMany(g => g.Select(r => r.Hash).Chunk(MaxKeysPerMessage).Select(chunk => Encode(ring.Current, g.Key, chunk, sentAt)))
            .ToArray();
        var published = await _connection.Guard.RunAsync(
            "lease_publish", (subscriber: _connection.Subscriber, channel: _connection.Names.LeaseResultChannel, messages),
            static s => Task.WhenAll(s.messages.Select(m => s.subscriber.PublishAsync(s.channel, m))),
            cancellationToken).ConfigureAwait(false);
        return published.Ok;
    }

    private void Remember(string key, LeaseOutcome outcome, long at)
    {
        _recent[key] = (outcome, at);
        _recentOrder.Enqueue((key, at));
        ForgetOld();
    }

    /// <summary>Forgets results older than a lease duration (no lease a waiter was told of outlives it), and the oldest beyond <see cref="RecentCapacity"/>.</summary>
    private void ForgetOld()
    {
        while (_recentOrder.TryPeek(out var oldest)
            && (_recentOrder.Count > RecentCapacity || _connection.Time.GetElapsedTime(oldest.At) > _connection.Options.LeaseDuration))
        {
            _recentOrder.Dequeue();
            if (_recent.TryGetValue(oldest.Key, out var kept) && kept.At == oldest.At)
            {
                _recent.Remove(oldest.Key);
            }
        }
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
        if (_connection.Keys.Ring is not { } ring || (byte[]?)value is not { } bytes)
        {
            return;
        }

        var (outcome, hashes, rejection, opened) = Decode(ring, bytes);
        if (!_screen.Admit(rejection, opened))
        {
            return;
        }

        var now = _connection.Time.GetTimestamp();
        var waits = new List<LeaseWait>();
        lock (_waiting)
        {
            var at = _connection.Time.GetTimestamp();
            foreach (var hash in hashes!)
            {
                var key = Convert.ToBase64String(hash);
                if (outcome == LeaseOutcome.Working)
                {
                    _progressHeard++;
                }
                else
                {
                    Remember(key, outcome, at);
                }

                if (_waiting.TryGetValue(key, out var list))
                {
                    waits.AddRange(list);
                }
            }
        }

        foreach (var wait in waits)
        {
            if (outcome == LeaseOutcome.Working)
            {
                wait.Progress(now);
            }
            else
            {
                wait.Complete(outcome);
            }
        }
    }
}

/// <summary>One registered wait for a lease holder's result; dispose it to unregister.</summary>
internal sealed class LeaseWait : IDisposable
{
    private readonly LeaseResults _owner;
    private readonly TaskCompletionSource<LeaseOutcome> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _progressAt; // the timestamp of the holder's last "still fetching"; 0 for none

    internal LeaseWait(LeaseResults owner, string key)
    {
        _owner = owner;
        Key = key;
    }

    internal string Key { get; }

    /// <summary>The holder's outcome, or <see cref="LeaseOutcome.TimedOut"/> after <paramref name="bound"/> without word from it.</summary>
    public async ValueTask<LeaseOutcome> WaitAsync(TimeSpan bound, TimeProvider time, CancellationToken cancellationToken) =>
        (await WaitAllAsync([this], bound, time, cancellationToken).ConfigureAwait(false))[0];

    /// <summary>
    /// Each wait's outcome once every one has its outcome or <paramref name="bound"/> has passed without word from a holder
    /// still owing one (its "still fetching" starts the bound again; one timer at a time for the lot), those without one then
    /// <see cref="LeaseOutcome.TimedOut"/>. A live holder's fetch is bounded by its own fetch timeout, so the wait is too.
    /// </summary>
    public static async ValueTask<LeaseOutcome[]> WaitAllAsync(IReadOnlyList<LeaseWait> waits, TimeSpan bound, TimeProvider time, CancellationToken cancellationToken)
    {
        var all = Task.WhenAll(waits.Select(w => w._result.Task));
        var from = time.GetTimestamp();
        var left = bound;
        while (true)
        {
            try
            {
                await all.WaitAsync(left, time, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (TimeoutException)
            {
            }

            var heard = waits.Where(w => !w._result.Task.IsCompleted).Select(w => Volatile.Read(ref w._progressAt)).DefaultIfEmpty(0).Max();
            var since = heard >= from ? time.GetElapsedTime(heard) : bound;
            if (since >= bound)
            {
                break;
            }

            left = bound - since;
        }

        return [.. waits.Select(w => w._result.Task.IsCompletedSuccessfully ? w._result.Task.Result : LeaseOutcome.TimedOut)];
    }

    public void Dispose() => _owner.Unregister(this);

    internal void Complete(LeaseOutcome outcome) => _result.TrySetResult(outcome);

    /// <summary>The holder said, at <paramref name="at"/> (a <see cref="TimeProvider"/> timestamp), that it is still fetching.</summary>
    internal void Progress(long at) => Volatile.Write(ref _progressAt, at);
}
