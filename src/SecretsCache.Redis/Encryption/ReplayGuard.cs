namespace SecretsCache.Redis.Encryption;

/// <summary>
/// Refuses a message delivered twice: one sent further than the window from this instance's clock (either way: the senders'
/// clocks may be ahead or behind), or one whose id was seen. An id is kept only while its message could still pass the
/// time check (until its send time plus the window), in sets by second of send time, so memory follows the genuine traffic
/// of one window and never more than <see cref="Capacity"/> ids. When more arrive within a window, the oldest second is
/// forgotten and everything sent before its end is refused from then on (<see cref="MessageRejection.Crowded"/>): the
/// window shrinks for a while, but a forgotten id can never pass again. Thread-safe: Redis delivers concurrently.
/// </summary>
internal sealed class ReplayGuard
{
    /// <summary>The most ids kept (with their sets, under 1 MB even at the longest window).</summary>
    public const int Capacity = 8_192;

    private const long BucketMs = 1_000;
    private readonly TimeProvider _time;
    private readonly long _windowMs;
    private readonly int _capacity;
    private readonly SortedDictionary<long, HashSet<UInt128>> _bySecond = [];
    private long _floorMs = long.MinValue;
    private int _count;

    public ReplayGuard(TimeProvider time, TimeSpan window, int capacity = Capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _time = time;
        _windowMs = (long)window.TotalMilliseconds;
        _capacity = capacity;
    }

    /// <summary>How many ids are kept now.</summary>
    public int Count
    {
        get
        {
            lock (_bySecond)
            {
                return _count;
            }
        }
    }

    /// <summary>Whether an authenticated message with <paramref name="stamp"/> is new; if so, its id is kept.</summary>
    public MessageRejection Admit(MessageStamp stamp)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_bySecond)
        {
            Forget(now);
            if (stamp.SentAtMs < now - _windowMs || stamp.SentAtMs > now + _windowMs)
            {
                return MessageRejection.Stale;
            }

            var second = Math.DivRem(stamp.SentAtMs, BucketMs, out var rest) - (rest < 0 ? 1 : 0);
            if (_bySecond.TryGetValue(second, out var ids) && ids.Contains(stamp.Id))
            {
                return MessageRejection.Replayed;
            }

            while (_count >= _capacity)
            {
                var (oldest, forgotten) = Oldest();
                _bySecond.Remove(oldest);
                _count -= forgotten.Count;
                _floorMs = Math.Max(_floorMs, (oldest + 1) * BucketMs);
            }

            if (stamp.SentAtMs < _floorMs)
            {
                return MessageRejection.Crowded;
            }

            if (!_bySecond.TryGetValue(second, out ids))
            {
                _bySecond[second] = ids = [];
            }

            ids.Add(stamp.Id);
            _count++;
            return MessageRejection.None;
        }
    }

    /// <summary>Drops the seconds whose every message is now outside the window: the time check refuses them without their ids.</summary>
    private void Forget(long now)
    {
        while (_bySecond.Count > 0)
        {
            var (oldest, ids) = Oldest();
            if (((oldest + 1) * BucketMs) - 1 + _windowMs >= now)
            {
                return;
            }

            _bySecond.Remove(oldest);
            _count -= ids.Count;
        }
    }

    private (long Second, HashSet<UInt128> Ids) Oldest()
    {
        using var first = _bySecond.GetEnumerator();
        first.MoveNext();
        return (first.Current.Key, first.Current.Value);
    }
}
