namespace SecretsCache.Testing;

/// <summary>
/// What reached the emulator. Counts are exact under concurrency and updated before the response is sent, so a test
/// may read them as soon as its call returns. <see cref="Snapshot"/> keeps the most recent 100,000 requests.
/// </summary>
public sealed class EmulatorRequestLog
{
    private const int MaxKept = 100_000;

    private readonly object _lock = new();
    private readonly Dictionary<string, int> _byOperation = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Region, string Operation), int> _byRegionOperation = [];
    private readonly Dictionary<string, int> _byRegion = new(StringComparer.Ordinal);
    private readonly Queue<EmulatorRequest> _recent = new();
    private int _total;
    private int _throttled;
    private int _rejected;

    internal EmulatorRequestLog()
    {
    }

    /// <summary>All requests, whatever their outcome.</summary>
    public int Total
    {
        get
        {
            lock (_lock)
            {
                return _total;
            }
        }
    }

    /// <summary>Requests answered ThrottlingException by a quota.</summary>
    public int Throttled
    {
        get
        {
            lock (_lock)
            {
                return _throttled;
            }
        }
    }

    /// <summary>Requests refused by authentication or validation (<see cref="EmulatorOutcome.AuthFailed"/>, <see cref="EmulatorOutcome.Invalid"/>).</summary>
    public int Rejected
    {
        get
        {
            lock (_lock)
            {
                return _rejected;
            }
        }
    }

    /// <summary>Requests for <paramref name="operation"/> (e.g. <c>secretsmanager.GetSecretValue</c>) that reached its handler
    /// or were throttled, failed or reset for it; authentication and validation rejections are not counted.</summary>
    public int Count(string operation)
    {
        lock (_lock)
        {
            return _byOperation.GetValueOrDefault(operation);
        }
    }

    /// <summary>Requests for <paramref name="operation"/> signed for <paramref name="region"/>, counted as <see cref="Count(string)"/> counts.</summary>
    public int Count(string operation, string region)
    {
        lock (_lock)
        {
            return _byRegionOperation.GetValueOrDefault((region, operation));
        }
    }

    /// <summary>All requests signed for <paramref name="region"/>, whatever their outcome (rejections included).</summary>
    public int CountInRegion(string region)
    {
        lock (_lock)
        {
            return _byRegion.GetValueOrDefault(region);
        }
    }

    /// <summary>A copy of the recorded requests, oldest first.</summary>
    public IReadOnlyList<EmulatorRequest> Snapshot()
    {
        lock (_lock)
        {
            return [.. _recent];
        }
    }

    /// <summary>Forgets every request and zeroes every count.</summary>
    public void Reset()
    {
        lock (_lock)
        {
            _byOperation.Clear();
            _byRegionOperation.Clear();
            _byRegion.Clear();
            _recent.Clear();
            _total = _throttled = _rejected = 0;
        }
    }

    internal void Record(EmulatorRequest request)
    {
        lock (_lock)
        {
            _total++;
            if (request.Region is { } region)
            {
                _byRegion[region] = _byRegion.GetValueOrDefault(region) + 1;
            }

            if (request.Outcome is EmulatorOutcome.AuthFailed or EmulatorOutcome.Invalid)
            {
                _rejected++;
            }
            else
            {
                _throttled += request.Outcome == EmulatorOutcome.Throttled ? 1 : 0;
                _byOperation[request.Operation] = _byOperation.GetValueOrDefault(request.Operation) + 1;
                if (request.Region is { } answeredBy)
                {
                    _byRegionOperation[(answeredBy, request.Operation)] = _byRegionOperation.GetValueOrDefault((answeredBy, request.Operation)) + 1;
                }
            }

            _recent.Enqueue(request);
            if (_recent.Count > MaxKept)
            {
                _recent.Dequeue();
            }
        }
    }
}
