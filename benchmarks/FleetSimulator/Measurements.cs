using System.Collections.Concurrent;
using System.Diagnostics;
using SecretsCache.Testing;

namespace SecretsCache.FleetSimulator;

/// <summary>
/// A log-linear latency histogram in nanoseconds (32 sub-buckets per power of two, so about 3% resolution), preallocated;
/// recording is one interlocked increment, so readers on any thread may record without allocating.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int Linear = 64;
    private const int SubBuckets = 32;
    private const int Exponents = 40;
    private static readonly double NanosPerTick = 1e9 / Stopwatch.Frequency;
    private readonly long[] _counts = new long[Linear + (Exponents * SubBuckets)];
    private long _max;
    private long _total;

    public long Count => Volatile.Read(ref _total);

    public void RecordTicks(long ticks)
    {
        var ns = (long)(Math.Max(0, ticks) * NanosPerTick);
        Interlocked.Increment(ref _counts[Index(ns)]);
        Interlocked.Increment(ref _total);
        long max;
        while (ns > (max = Volatile.Read(ref _max)) && Interlocked.CompareExchange(ref _max, ns, max) != max)
        {
        }
    }

    public TimeSpan Max => TimeSpan.FromTicks(Volatile.Read(ref _max) / 100);

    /// <summary>The value at <paramref name="quantile"/> (upper edge of its bucket).</summary>
    public TimeSpan Percentile(double quantile)
    {
        var total = Count;
        if (total == 0)
        {
            return TimeSpan.Zero;
        }

        var rank = (long)Math.Ceiling(quantile * total);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += Volatile.Read(ref _counts[i]);
            if (seen >= rank)
            {
                return TimeSpan.FromTicks(Math.Min(UpperNanos(i), Volatile.Read(ref _max)) / 100);
            }
        }

        return Max;
    }

    private static int Index(long ns)
    {
        if (ns < Linear)
        {
            return (int)ns;
        }

        var exponent = 63 - long.LeadingZeroCount(ns); // >= 6
        var sub = (int)((ns >> (int)(exponent - 5)) & (SubBuckets - 1));
        return Math.Min(Linear + ((int)(exponent - 6) * SubBuckets) + sub, Linear + (Exponents * SubBuckets) - 1);
    }

    private static long UpperNanos(int index)
    {
        if (index < Linear)
        {
            return index;
        }

        var exponent = ((index - Linear) / SubBuckets) + 6;
        var sub = (index - Linear) % SubBuckets;
        return ((long)(SubBuckets + sub + 1)) << (exponent - 5);
    }
}

/// <summary>What callers saw during one scenario: reads, errors, latency. Counters only; nothing allocates per read.</summary>
internal sealed class CallerStats
{
    /// <summary>Latency of reads of Secrets Manager references.</summary>
    public readonly LatencyHistogram Latency = new();

    /// <summary>Latency of reads of Parameter Store references.</summary>
    public readonly LatencyHistogram ParameterLatency = new();

    /// <summary>Latency of reads (of either store) of a reference this instance already held: a hit, or a stale value to fall back on.</summary>
    public readonly LatencyHistogram HeldLatency = new();

    /// <summary>Latency of reads (of either store) of a reference this instance never held: nothing to fall back on.</summary>
    public readonly LatencyHistogram ColdLatency = new();

    /// <summary>
    /// Latency of reads that began holding a value at least its TTL old (by the newest <see cref="Secret.FetchedAt"/> this
    /// instance's reads returned): an expired value, so the read waited on its refresh or was answered stale. A subset of
    /// <see cref="HeldLatency"/>; a refresh-ahead no read returned yet can make a fresh hit count here.
    /// </summary>
    public readonly LatencyHistogram StaleLatency = new();

    /// <summary>
    /// Stale-value reads (<see cref="StaleLatency"/>) slower than <see cref="SlowStaleTicks"/>, by the second of the run in
    /// which they ended, and of those the ones slower than <see cref="StaleFallbackTicks"/> (about the library's default
    /// <c>StaleFallbackTimeout</c>): when in an outage the slow ones happen.
    /// </summary>
    public readonly long[] SlowStaleBySecond = new long[TrackedSeconds];

    /// <inheritdoc cref="SlowStaleBySecond"/>
    public readonly long[] FallbackStaleBySecond = new long[TrackedSeconds];

    public const int TrackedSeconds = 600;
    public static readonly long SlowStaleTicks = Stopwatch.Frequency / 10;
    public static readonly long StaleFallbackTicks = Stopwatch.Frequency * 9 / 10;

    /// <summary>Latency of secret reads the L1 could not answer at once (misses: served by the L2 or by AWS).</summary>
    public readonly LatencyHistogram MissLatency = new();

    /// <summary>Round trip of one GetSecretValue request to the emulator (what a miss costs without the L2, on loopback).</summary>
    public readonly LatencyHistogram FetchLatency = new();
    public long Reads;
    public long AsyncReads;
    public long Skipped;

    /// <summary>Errors for a reference this instance had already read successfully: a stale value existed.</summary>
    public long ErrorsWithStale;

    /// <summary>Errors for a reference this instance never held (cold start): nothing could be served.</summary>
    public long ErrorsCold;

    public readonly ConcurrentDictionary<string, long> ErrorTypes = new(StringComparer.Ordinal);

    /// <summary>The second level's events in this phase (L2 runs), by counter and tags; see <see cref="L2Telemetry"/>.</summary>
    public readonly ConcurrentDictionary<string, long> L2Events = new(StringComparer.Ordinal);

    public void RecordError(Exception error, bool hadValue, bool parameter)
    {
        if (hadValue)
        {
            Interlocked.Increment(ref ErrorsWithStale);
        }
        else
        {
            Interlocked.Increment(ref ErrorsCold);
        }

        var type = (parameter ? "parameter " : "secret ") + error.GetType().Name + (hadValue ? " (stale value existed)" : " (cold)");
        ErrorTypes.AddOrUpdate(type, 1, static (_, n) => n + 1);
    }
}

/// <summary>The emulator's request log, turned into per-second counts per operation (arrival times relative to the run's start).</summary>
internal sealed class RequestTimeline
{
    public static readonly string[] Operations =
    [
        "secretsmanager.GetSecretValue",
        "secretsmanager.DescribeSecret",
        "secretsmanager.BatchGetSecretValue",
        "AmazonSSM.GetParameter",
        "AmazonSSM.GetParameters",
        "AmazonSSM.GetParametersByPath",
    ];

    private readonly DateTimeOffset _start;
    private readonly int _capacity;
    private EmulatorRequest? _last;

    public RequestTimeline(DateTimeOffset start, int seconds)
    {
        _start = start;
        _capacity = seconds;
        Arrivals = new long[Operations.Length + 1][];
        Throttled = new long[Operations.Length + 1][];
        Faulted = new long[Operations.Length + 1][];
        Sent = new long[Operations.Length + 1][];
        for (var i = 0; i <= Operations.Length; i++)
        {
            Sent[i] = new long[seconds];
            Arrivals[i] = new long[seconds];
            Throttled[i] = new long[seconds];
            Faulted[i] = new long[seconds];
        }
    }

    /// <summary>[operation][second] by the emulator's arrival time; the last row is any other operation.</summary>
    public long[][] Arrivals { get; }

    /// <summary>
    /// [operation][second] by the time an instance's HttpClient sent the request: what the fleet sent, which is what AWS would
    /// see. Arrival times at the in-process emulator also carry this machine's queueing when it is busy.
    /// </summary>
    public long[][] Sent { get; }

    /// <summary>The run's start, as a Stopwatch timestamp.</summary>
    public long StartTimestamp { get; init; }

    /// <summary>Counts one request as sent now (any thread).</summary>
    public void RecordSent(string? target)
    {
        var second = (int)((Stopwatch.GetTimestamp() - StartTimestamp) / Stopwatch.Frequency);
        if (second < 0 || second >= _capacity)
        {
            return;
        }

        var op = target is null ? -1 : Array.IndexOf(Operations, target);
        Interlocked.Increment(ref Sent[op < 0 ? Operations.Length : op][second]);
    }

    public long[][] Throttled { get; }

    public long[][] Faulted { get; }

    /// <summary>Requests the snapshot window lost between two polls (more than 100,000 in one poll interval).</summary>
    public long Lost { get; private set; }

    public long Collected { get; private set; }

    /// <summary>Takes the requests that arrived since the last poll. Called from one thread.</summary>
    public void Poll(EmulatorRequestLog log)
    {
        var snapshot = log.Snapshot();
        var from = 0;
        if (_last is not null)
        {
            from = -1;
            for (var i = snapshot.Count - 1; i >= 0; i--)
            {
                if (ReferenceEquals(snapshot[i], _last))
                {
                    from = i + 1;
                    break;
                }
            }

            if (from < 0)
            {
                Lost++; // The last one seen fell out of the window: some requests were not seen.
                from = 0;
            }
        }

        for (var i = from; i < snapshot.Count; i++)
        {
            var r = snapshot[i];
            var second = (int)Math.Floor((r.ArrivedAt - _start).TotalSeconds);
            if (second < 0 || second >= _capacity)
            {
                continue;
            }

            var op = Array.IndexOf(Operations, r.Operation);
            if (op < 0)
            {
                op = Operations.Length;
            }

            Arrivals[op][second]++;
            if (r.Outcome == EmulatorOutcome.Throttled)
            {
                Throttled[op][second]++;
            }
            else if (r.Outcome is EmulatorOutcome.Fault or EmulatorOutcome.ConnectionReset)
            {
                Faulted[op][second]++;
            }

            Collected++;
        }

        if (snapshot.Count > 0)
        {
            _last = snapshot[^1];
        }
    }
}
