using SecretsCache.Testing.Faults;

namespace SecretsCache.Testing;

/// <summary>
/// Faults the emulator injects into requests that passed authentication, in this order: connection resets, quota
/// throttling, then failures. Operations are named by their <c>X-Amz-Target</c>, e.g. <c>secretsmanager.GetSecretValue</c>
/// or <c>AmazonSSM.GetParameter</c>. Thread-safe; every count is exact under concurrency.
/// </summary>
public sealed class EmulatorFaults
{
    private readonly object _lock = new();
    private readonly TimeProvider _time;
    private readonly Dictionary<string, (TokenBucket Bucket, HashSet<string> Operations)> _quotas = new(StringComparer.Ordinal);
    private readonly List<OneShotRule> _failures = [];
    private readonly List<OneShotRule> _resets = [];
    private long _latencyTicks;
    private long _clockSkewTicks;

    internal EmulatorFaults(TimeProvider time) => _time = time;

    /// <summary>Added before answering each request, waited on the emulator's <see cref="TimeProvider"/>.</summary>
    public TimeSpan Latency
    {
        get => TimeSpan.FromTicks(Volatile.Read(ref _latencyTicks));
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            Volatile.Write(ref _latencyTicks, value.Ticks);
        }
    }

    /// <summary>How far the emulator's clock runs ahead of its <see cref="TimeProvider"/> (negative: behind). It moves the
    /// five-minute signature window, the <c>Date</c> response header and the timestamps the emulator records.</summary>
    public TimeSpan ClockSkew
    {
        get => TimeSpan.FromTicks(Volatile.Read(ref _clockSkewTicks));
        set => Volatile.Write(ref _clockSkewTicks, value.Ticks);
    }

    /// <summary>
    /// Sets (or replaces) a named token bucket of <paramref name="requestsPerSecond"/>, with a burst of one second's worth,
    /// shared by <paramref name="operations"/> (all operations when none are listed). A request over it is answered
    /// HTTP 400 <c>{"__type":"ThrottlingException","message":"Rate exceeded"}</c>.
    /// </summary>
    public void SetQuota(string name, double requestsPerSecond, params string[] operations)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(operations);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(requestsPerSecond);
        lock (_lock)
        {
            _quotas[name] = (new TokenBucket(requestsPerSecond, _time), new HashSet<string>(operations, StringComparer.Ordinal));
        }
    }

    /// <summary>Removes every quota.</summary>
    public void ClearQuotas()
    {
        lock (_lock)
        {
            _quotas.Clear();
        }
    }

    /// <summary>
    /// The next <paramref name="count"/> matching requests are answered with <paramref name="statusCode"/> (500-599) and an
    /// AWS-shaped body: 503 <c>ServiceUnavailable</c>; otherwise <c>InternalServiceError</c> (Secrets Manager) or
    /// <c>InternalServerError</c> (Parameter Store).
    /// </summary>
    public void FailNext(int count, int statusCode = 500, string? operation = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 500);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);
        Add(_failures, new OneShotRule(count, operation, statusCode, null));
    }

    /// <summary>The next <paramref name="count"/> matching requests are answered with the AWS error <paramref name="errorCode"/>
    /// (e.g. <c>TooManyUpdates</c>, <c>LimitExceededException</c>): HTTP 500 when the service model marks it a server fault, else 400.</summary>
    public void FailNextWith(string errorCode, int count = 1, string? operation = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(errorCode);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        Add(_failures, new OneShotRule(count, operation, 0, errorCode));
    }

    /// <summary>The next <paramref name="count"/> matching requests get no response: the connection is aborted, and the client sees an <see cref="HttpRequestException"/>.</summary>
    public void ResetNextConnections(int count, string? operation = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        Add(_resets, new OneShotRule(count, operation, 0, null));
    }

    /// <summary>Drops pending failures and connection resets (an outage ends), keeping quotas, latency and clock skew.</summary>
    public void ClearFailures()
    {
        lock (_lock)
        {
            _failures.Clear();
            _resets.Clear();
        }
    }

    /// <summary>Turns every fault off: quotas, pending failures and resets, latency and clock skew.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _quotas.Clear();
            _failures.Clear();
            _resets.Clear();
        }

        Latency = TimeSpan.Zero;
        ClockSkew = TimeSpan.Zero;
    }

    internal bool TryTakeReset(string operation) => TryTake(_resets, operation) is not null;

    internal OneShotRule? TryTakeFailure(string operation) => TryTake(_failures, operation);

    /// <summary>Takes a token from every quota covering the operation, or none when any of them is empty.</summary>
    internal bool TryAcquireQuota(string operation)
    {
        lock (_lock)
        {
            var buckets = _quotas.Values.Where(q => q.Operations.Count == 0 || q.Operations.Contains(operation)).Select(q => q.Bucket).ToList();
            if (!buckets.TrueForAll(b => b.HasToken()))
            {
                return false;
            }

            buckets.ForEach(b => b.Take());
            return true;
        }
    }

    private void Add(List<OneShotRule> rules, OneShotRule rule)
    {
        lock (_lock)
        {
            rules.Add(rule);
        }
    }

    private OneShotRule? TryTake(List<OneShotRule> rules, string operation)
    {
        lock (_lock)
        {
            var rule = rules.Find(r => r.TryTake(operation));
            rules.RemoveAll(r => r.Remaining == 0);
            return rule;
        }
    }
}
