using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace SecretsCache.Redis.Diagnostics;

/// <summary>
/// The second level's instruments, on the <c>SecretsCache</c> meter (so one <c>AddMeter</c> covers both levels). Tags are
/// outcomes, operations, kinds and error types: never values, names or key hashes.
/// </summary>
internal sealed class RedisL2Metrics : IDisposable
{
    public const string Reason = "secretscache.l2.reason";
    public const string Operation = "secretscache.l2.operation";
    public const string Kind = "secretscache.backplane.kind";
    public const string Direction = "secretscache.backplane.direction";
    public const string Quota = "secretscache.fleet.quota";
    public const string ErrorType = "error.type";

    private static readonly string? Version = typeof(RedisL2Metrics).Assembly.GetName().Version?.ToString();
    private readonly Meter _meter;
    private readonly bool _ownsMeter;

    public RedisL2Metrics(IMeterFactory? meterFactory = null)
    {
        if (meterFactory is not null)
        {
            _meter = meterFactory.Create(new MeterOptions(SecretsCacheTelemetry.MeterName) { Version = Version });
        }
        else
        {
            _meter = new Meter(SecretsCacheTelemetry.MeterName, Version);
            _ownsMeter = true;
        }

        Hits = _meter.CreateCounter<long>("secretscache.l2.hits", "{read}", "Reads answered by the Redis second level.");
        Misses = _meter.CreateCounter<long>("secretscache.l2.misses", "{read}", "Reads the second level could not answer, by reason (absent, expired, forged, unknown_key, malformed, version_mismatch, unavailable).");
        Errors = _meter.CreateCounter<long>("secretscache.l2.errors", "{call}", "Redis calls that failed, timed out, were skipped by the open breaker or while disconnected (error.type Disconnected), by operation and error.type.");
        BackplaneMessages = _meter.CreateCounter<long>("secretscache.backplane.messages", "{message}", "Backplane messages sent and received, by direction and kind (received ones that were rejected have kind 'rejected').");
        LeaseWaits = _meter.CreateCounter<long>("secretscache.lease.waits", "{wait}", "Reads that waited for another instance's fetch, by outcome.");
        FleetWaits = _meter.CreateCounter<long>("secretscache.fleet_limiter.waits", "{wait}", "Requests that waited because the fleet-wide bucket was empty, by quota.");
        FleetWaitDuration = _meter.CreateHistogram<double>("secretscache.fleet_limiter.wait.duration", "s", "How long requests waited for a fleet-wide token.");
        LateAnswers = _meter.CreateCounter<long>("secretscache.l2.late_answers", "{call}", "Redis calls whose answer came within the operation timeout but was picked up after it (a busy thread pool); used, not counted as errors. By operation.");
        FleetFallbacks = _meter.CreateCounter<long>("secretscache.fleet_limiter.fallbacks", "{request}", "Requests limited by the static share because Redis was unreachable, by quota.");
        DeferredRefreshes = _meter.CreateCounter<long>("secretscache.l2.deferred_refreshes", "{refresh}", "Refresh-aheads asked again later, not sent to AWS, because Redis did not answer or their holder's wait brought nothing while the value stayed fresh.");
    }

    public Counter<long> Hits { get; }

    public Counter<long> Misses { get; }

    public Counter<long> Errors { get; }

    public Counter<long> BackplaneMessages { get; }

    public Counter<long> LeaseWaits { get; }

    public Counter<long> FleetWaits { get; }

    public Histogram<double> FleetWaitDuration { get; }

    public Counter<long> FleetFallbacks { get; }

    public Counter<long> LateAnswers { get; }

    public Counter<long> DeferredRefreshes { get; }

    public static void Add(Counter<long> counter)
    {
        if (counter.Enabled)
        {
            counter.Add(1);
        }
    }

    public static void Add(Counter<long> counter, string tag, string value)
    {
        if (counter.Enabled)
        {
            counter.Add(1, new KeyValuePair<string, object?>(tag, value));
        }
    }

    public void Message(string direction, string kind)
    {
        if (BackplaneMessages.Enabled)
        {
            var tags = new TagList { { Direction, direction }, { Kind, kind } };
            BackplaneMessages.Add(1, in tags);
        }
    }

    public void LateAnswer(string operation) => Add(LateAnswers, Operation, operation);

    public void Error(string operation, Exception error) => Error(operation, error.GetType().Name);

    public void Error(string operation, string errorType)
    {
        if (Errors.Enabled)
        {
            var tags = new TagList { { Operation, operation }, { ErrorType, errorType } };
            Errors.Add(1, in tags);
        }
    }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
