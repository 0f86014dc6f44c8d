namespace SecretsCache.Resilience;

/// <summary>
/// <see cref="RetryOptions.TotalTimeout"/> for one call: a token that is cancelled when the budget is spent, or when the
/// caller's token is. The budget counts only the time AWS is being asked (attempts and backoff delays): it is paused while
/// the call waits for a rate-limit token, because waiting in the client-side queue is not AWS failing to answer (a fleet
/// share of one request per 20 s would otherwise spend all of it). That wait is bounded by the caller's token instead
/// (the engine's <see cref="SecretsCacheOptions.FetchTimeout"/>, the one outer budget).
/// </summary>
internal sealed class RetryBudget : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly TimeProvider _time;
    private readonly ITimer? _timer;
    private readonly object _gate = new();
    private TimeSpan _left;
    private long _runningSince;
    private int _pauses;
    private bool _spent;
    private bool _disposed;

    public RetryBudget(TimeSpan budget, TimeProvider time, CancellationToken callerToken)
    {
        Budget = budget;
        _time = time;
        _left = budget;
        _source = CancellationTokenSource.CreateLinkedTokenSource(callerToken);
        if (budget != Timeout.InfiniteTimeSpan)
        {
            _runningSince = time.GetTimestamp();
            _timer = time.CreateTimer(static state => ((RetryBudget)state!).Spend(), this, budget, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>The whole budget.</summary>
    public TimeSpan Budget { get; }

    /// <summary>Cancelled when the budget is spent or the caller cancels.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>Whether the budget ran out (rather than the caller cancelling).</summary>
    public bool Spent
    {
        get
        {
            lock (_gate)
            {
                return _spent;
            }
        }
    }

    /// <summary>Stops the budget's clock until the matching <see cref="Resume"/> (pauses nest).</summary>
    public void Pause()
    {
        lock (_gate)
        {
            if (_pauses++ > 0 || _timer is null || _spent || _disposed)
            {
                return;
            }

            _left -= _time.GetElapsedTime(_runningSince);
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    public void Resume()
    {
        var spend = false;
        lock (_gate)
        {
            if (--_pauses > 0 || _timer is null || _spent || _disposed)
            {
                return;
            }

            _runningSince = _time.GetTimestamp();
            if (_left > TimeSpan.Zero)
            {
                _timer.Change(_left, Timeout.InfiniteTimeSpan);
            }
            else
            {
                spend = true;
            }
        }

        if (spend)
        {
            Spend();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _timer?.Dispose();
        }

        _source.Dispose();
    }

    private void Spend()
    {
        lock (_gate)
        {
            if (_spent || _disposed || _pauses > 0)
            {
                return;
            }

            _spent = true;
        }

        _source.Cancel();
    }
}
