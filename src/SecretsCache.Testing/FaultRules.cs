using SecretsCache.Testing.Faults;

namespace SecretsCache.Testing;

/// <summary>
/// Faults for one scope: every region (<see cref="EmulatorFaults"/> itself) or one region
/// (<see cref="EmulatorFaults.ForRegion"/>). A request meets the faults of both scopes: resets and failures of its
/// region first, then the global ones; a quota of either scope can throttle it. Operations are named by their
/// <c>X-Amz-Target</c>, e.g. <c>secretsmanager.GetSecretValue</c> or <c>AmazonSSM.GetParameter</c>. Thread-safe;
/// every count is exact under concurrency.
/// </summary>
public class FaultRules
{
    private readonly TimeProvider _time;
    private readonly Dictionary<string, (TokenBucket Bucket, HashSet<string> Operations)> _quotas = new(StringComparer.Ordinal);
    private readonly List<FaultRule> _failures = [];
    private readonly List<FaultRule> _resets = [];
    private long _latencyTicks;

    internal FaultRules(TimeProvider time, object sync)
    {
        _time = time;
        Sync = sync;
    }

    /// <summary>Added before answering each request, waited on the emulator's <see cref="TimeProvider"/>. A region's
    /// latency adds to the global one; a latency beyond the client's timeout makes the client time out.</summary>
    public TimeSpan Latency
    {
        get => TimeSpan.FromTicks(Volatile.Read(ref _latencyTicks));
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            Volatile.Write(ref _latencyTicks, value.Ticks);
        }
    }

    /// <summary>The lock shared by the global scope and every region's, so a request's quotas are taken atomically.</summary>
    private protected object Sync { get; }

    /// <summary>
    /// Sets (or replaces) a named token bucket of <paramref name="requestsPerSecond"/>, with a burst of one second's worth,
    /// shared by <paramref name="operations"/> (all operations when none are listed) and by every request of this scope
    /// (the global scope counts all regions together). A request over it is answered HTTP 400
    /// <c>{"__type":"ThrottlingException","message":"Rate exceeded"}</c>.
    /// </summary>
    public void SetQuota(string name, double requestsPerSecond, params string[] operations)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(operations);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(requestsPerSecond);
        lock (Sync)
        {
            _quotas[name] = (new TokenBucket(requestsPerSecond, _time), new HashSet<string>(operations, StringComparer.Ordinal));
        }
    }

    /// <summary>Removes every quota of this scope (on <see cref="EmulatorFaults"/>: of every region too).</summary>
    public virtual void ClearQuotas()
    {
        lock (Sync)
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
        CheckServerError(statusCode);
        Add(_failures, new FaultRule(count, operation, statusCode, null));
    }

    /// <summary>An outage: every matching request is answered as by <see cref="FailNext"/> (503 <c>ServiceUnavailable</c>
    /// by default) until <see cref="ClearFailures"/> or <see cref="Clear"/>.</summary>
    public void FailAll(int statusCode = 503, string? operation = null)
    {
        CheckServerError(statusCode);
        Add(_failures, new FaultRule(null, operation, statusCode, null));
    }

    /// <summary>The next <paramref name="count"/> matching requests are answered with the AWS error <paramref name="errorCode"/>
    /// (e.g. <c>TooManyUpdates</c>, <c>LimitExceededException</c>): HTTP 500 when the service model marks it a server fault, else 400.</summary>
    public void FailNextWith(string errorCode, int count = 1, string? operation = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(errorCode);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        Add(_failures, new FaultRule(count, operation, 0, errorCode));
    }

    /// <summary>The next <paramref name="count"/> matching requests get no response: the connection is aborted, and the client sees an <see cref="HttpRequestException"/>.</summary>
    public void ResetNextConnections(int count, string? operation = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        Add(_resets, new FaultRule(count, operation, 0, null));
    }

    /// <summary>Drops pending failures, outages and connection resets (an outage ends), keeping quotas and latency
    /// (on <see cref="EmulatorFaults"/>: of every region too, keeping the clock skew).</summary>
    public virtual void ClearFailures()
    {
        lock (Sync)
        {
            _failures.Clear();
            _resets.Clear();
        }
    }

    /// <summary>Turns every fault of this scope off: quotas, failures, outages, resets and latency (on
    /// <see cref="EmulatorFaults"/>: of every region too, and the clock skew).</summary>
    public virtual void Clear()
    {
        lock (Sync)
        {
            _quotas.Clear();
            _failures.Clear();
            _resets.Clear();
        }

        Latency = TimeSpan.Zero;
    }

    /// <summary>Takes a matching reset. The caller holds <see cref="Sync"/>.</summary>
    internal bool TakeReset(string operation) => Take(_resets, operation) is not null;

    /// <summary>Takes a matching failure. The caller holds <see cref="Sync"/>.</summary>
    internal FaultRule? TakeFailure(string operation) => Take(_failures, operation);

    /// <summary>The buckets of the quotas covering the operation. The caller holds <see cref="Sync"/>.</summary>
    internal IEnumerable<TokenBucket> QuotasCovering(string operation) =>
        _quotas.Values.Where(q => q.Operations.Count == 0 || q.Operations.Contains(operation)).Select(q => q.Bucket);

    private static void CheckServerError(int statusCode)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 500);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);
    }

    private static FaultRule? Take(List<FaultRule> rules, string operation)
    {
        var rule = rules.Find(r => r.TryTake(operation));
        rules.RemoveAll(r => r.IsSpent);
        return rule;
    }

    private void Add(List<FaultRule> rules, FaultRule rule)
    {
        lock (Sync)
        {
            rules.Add(rule);
        }
    }
}
