namespace SecretsCache.Testing.Faults;

/// <summary>
/// A token bucket that refills from <see cref="TimeProvider"/> timestamps, so a test clock controls it exactly.
/// It holds one second's worth of tokens (at least one) and starts full. Not thread-safe: the caller locks.
/// </summary>
internal sealed class TokenBucket
{
    private readonly TimeProvider _time;
    private readonly double _ratePerSecond;
    private readonly double _capacity;
    private double _tokens;
    private long _refilledAt;

    public TokenBucket(double ratePerSecond, TimeProvider time)
    {
        _time = time;
        _ratePerSecond = ratePerSecond;
        _capacity = Math.Max(1, ratePerSecond);
        _tokens = _capacity;
        _refilledAt = time.GetTimestamp();
    }

    public bool HasToken()
    {
        var now = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(_refilledAt, now).TotalSeconds;
        if (elapsed > 0)
        {
            _tokens = Math.Min(_capacity, _tokens + (elapsed * _ratePerSecond));
            _refilledAt = now;
        }

        return _tokens >= 1;
    }

    public void Take() => _tokens -= 1;
}
