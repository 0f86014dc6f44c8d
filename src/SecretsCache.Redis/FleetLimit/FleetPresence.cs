using System.Security.Cryptography;
using SecretsCache.Redis.Connection;
using SecretsCache.Redis.Diagnostics;
using StackExchange.Redis;

namespace SecretsCache.Redis.FleetLimit;

/// <summary>
/// How big the fleet is, learnt while Redis is up, so the static share a fleet limiter falls back to is the quota over the
/// fleet that really runs. Each instance has a random id and, every <see cref="Interval"/> on its provider's clock, one
/// script adds it to the namespace's sorted set (score: Redis's own clock), drops the entries older than
/// <see cref="Window"/> and counts the rest. The size used is the largest count of the last <see cref="Memory"/> answers,
/// so a fleet that shrinks does not raise every share at once, and an outage (no answers) keeps the last size seen.
/// </summary>
internal sealed class FleetPresence : IDisposable
{
    /// <summary>How often an instance says it is there: one script per provider, never more often.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    /// <summary>How long an instance counts after its last refresh: three refreshes, so a late one or two do not drop it.</summary>
    public static readonly TimeSpan Window = 3 * Interval;

    /// <summary>Answers the size is the largest of: about a minute of them.</summary>
    public const int Memory = 12;

    /// <summary>The most entries the set keeps, and the largest size believed: beyond it, the oldest entries go.</summary>
    public const int MaxFleetSize = 10_000;

    /// <summary>The <c>operation</c> tag of the script's errors (and of a reply that is not a size).</summary>
    public const string Operation = "fleet_presence";

    /// <summary>The <c>error.type</c> of a reply that is not a size within [1, <see cref="MaxFleetSize"/>].</summary>
    public const string Malformed = "Malformed";

    // The set is this namespace's alone: another type planted under its name is replaced (pcall, so WRONGTYPE is not an
    // error), entries dated in the future (no instance writes them: every score is Redis's own TIME) are dropped, and
    // beyond the cap the oldest go. Numbers go back to Redis through string.format (see FleetBucket).
    internal static readonly RedisScript Refresh = new("""
        local window = tonumber(ARGV[2])
        local cap = tonumber(ARGV[3])
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
        local pruned = redis.pcall('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', now - window))
        if type(pruned) == 'table' and pruned.err then
          redis.call('DEL', KEYS[1])
        end
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '(' .. string.format('%.0f', now + window), '+inf')
        redis.call('ZADD', KEYS[1], string.format('%.0f', now), ARGV[1])
        local count = redis.call('ZCARD', KEYS[1])
        if count > cap then
          redis.call('ZREMRANGEBYRANK', KEYS[1], 0, count - cap - 1)
          count = redis.call('ZCARD', KEYS[1])
        end
        redis.call('PEXPIRE', KEYS[1], window * 2)
        return count
        """);

    private readonly RedisConnection _connection;
    private readonly RedisKey _set;
    private readonly RedisValue _id;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private readonly long[] _counts = new long[Memory];
    private readonly object _lock = new();
    private int _answers;
    private long _firstAnswerAt;
    private int _largest;
    private bool _settled;
    private int _refreshing;
    private TaskCompletionSource _refreshed = NewSignal();
    private bool _disposed;

    public FleetPresence(RedisConnection connection)
    {
        _connection = connection;
        _time = connection.Time;
        _set = connection.Names.Presence;
        _id = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        _timer = _time.CreateTimer(static state => ((FleetPresence)state!).Tick(), this, Interval, Interval);
    }

    /// <summary>The largest fleet size seen in the last answers; 0 while Redis has never answered.</summary>
    public int ObservedSize => Volatile.Read(ref _largest);

    /// <summary>
    /// Whether this instance has watched the fleet for a whole <see cref="Window"/>: before, an instance that started with
    /// others (a deploy) has not seen the ones that started after it.
    /// </summary>
    public bool Settled
    {
        get
        {
            lock (_lock)
            {
                return _settled;
            }
        }
    }

    /// <summary>Completes when the next refresh (by the timer or <see cref="RefreshAsync"/>) has ended, answered or not.</summary>
    internal Task NextRefresh
    {
        get
        {
            lock (_lock)
            {
                return _refreshed.Task;
            }
        }
    }

    /// <summary>
    /// The fleet size a static share is cut for: <paramref name="fallbackFleetSize"/> while nothing was ever observed; the
    /// observed size times <paramref name="margin"/> (room for the fleet to grow while Redis is away) once settled, and
    /// before that the larger of the two.
    /// </summary>
    public int FallbackSize(int fallbackFleetSize, double margin)
    {
        int observed;
        bool settled;
        lock (_lock)
        {
            observed = _largest;
            settled = _settled;
        }

        if (observed == 0)
        {
            return fallbackFleetSize;
        }

        var grown = (int)Math.Min(Math.Ceiling((observed * margin) - 1e-9), int.MaxValue);
        return Math.Max(1, settled ? grown : Math.Max(grown, fallbackFleetSize));
    }

    /// <summary>Says this instance is there and reads the fleet's size: one script, through the breaker; never throws for Redis.</summary>
    public Task RefreshAsync(CancellationToken cancellationToken = default) => RefreshCoreAsync(byTimer: false, cancellationToken);

    private async Task RefreshCoreAsync(bool byTimer, CancellationToken cancellationToken)
    {
        try
        {
            if (_connection.LimitGuard.Skips)
            {
                return;
            }

            var reply = await _connection.LimitGuard.RunAsync(
                Operation, (db: _connection.Database, set: _set, id: _id),
                static s => Refresh.EvaluateAsync(s.db, [s.set],
                [
                    s.id,
                    (long)Window.TotalMilliseconds,
                    MaxFleetSize,
                ]),
                cancellationToken).ConfigureAwait(false);
            if (!reply.Ok)
            {
                return;
            }

            if (Parse(reply.Value!) is not { } size)
            {
                _connection.Metrics.Error(Operation, Malformed);
                RedisLog.CallFailed(_connection.Logger, Operation, Malformed);
                return;
            }

            Observe(size);
        }
        finally
        {
            TaskCompletionSource done;
            lock (_lock)
            {
                done = _refreshed;
                _refreshed = NewSignal();
            }

            if (byTimer)
            {
                // Before the signal: a tick right after it (a clock moved on at once) must not find this refresh still running.
                Volatile.Write(ref _refreshing, 0);
            }

            done.TrySetResult();
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
        }

        _timer.Dispose();
    }

    /// <summary>The script's count, trusting nothing: anything but an integer within [1, <see cref="MaxFleetSize"/>] is null.</summary>
    internal static int? Parse(RedisResult reply)
    {
        if (reply.Resp2Type != ResultType.Integer || reply.IsNull)
        {
            return null;
        }

        var count = (long)reply;
        return count is < 1 or > MaxFleetSize ? null : (int)count;
    }

    private void Observe(int size)
    {
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            if (_answers == 0)
            {
                _firstAnswerAt = now;
            }

            _counts[_answers % Memory] = size;
            _answers++;
            _settled |= _time.GetElapsedTime(_firstAnswerAt, now) >= Window;
            var largest = 0L;
            for (var i = 0; i < Math.Min(_answers, Memory); i++)
            {
                largest = Math.Max(largest, _counts[i]);
            }

            Volatile.Write(ref _largest, (int)largest);
        }
    }

    /// <summary>One refresh at a time: a tick while the last is still in flight (a slow Redis) is skipped.</summary>
    private void Tick()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
        }

        if (Interlocked.CompareExchange(ref _refreshing, 1, 0) != 0)
        {
            return;
        }

        _ = Task.Run(() => RefreshCoreAsync(byTimer: true, CancellationToken.None)); // resets _refreshing as it ends
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
