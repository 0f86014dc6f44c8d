using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace SecretsCache.Diagnostics;

/// <summary>The instruments of one provider, on a <see cref="Meter"/> made by the host's <see cref="IMeterFactory"/> when there is one.</summary>
internal sealed class SecretsCacheMetrics : IDisposable
{
    private static readonly string? Version = typeof(SecretsCacheMetrics).Assembly.GetName().Version?.ToString();
    private readonly Meter _meter;
    private readonly bool _ownsMeter;

    public SecretsCacheMetrics(IMeterFactory? meterFactory)
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

        Hits = _meter.CreateCounter<long>("secretscache.cache.hits", "{read}", "Reads answered from a fresh cached value.");
        Misses = _meter.CreateCounter<long>("secretscache.cache.misses", "{read}", "Reads that found no fresh value and waited on a fetch.");
        StaleServed = _meter.CreateCounter<long>("secretscache.cache.stale_served", "{read}", "Reads answered with a stale value because the backend failed or was slow.");
        Evictions = _meter.CreateCounter<long>("secretscache.cache.evictions", "{entry}", "Entries evicted to keep the cache within its size bound.");
        Fetches = _meter.CreateCounter<long>("secretscache.fetches", "{fetch}", "Values fetched from the backend (each item of a batch counts).");
        FetchErrors = _meter.CreateCounter<long>("secretscache.fetch.errors", "{fetch}", "Fetches that failed, by error.type.");
        FetchDuration = _meter.CreateHistogram<double>("secretscache.fetch.duration", "s", "How long backend fetches took, retries included.");
    }

    public Counter<long> Hits { get; }

    public Counter<long> Misses { get; }

    public Counter<long> StaleServed { get; }

    public Counter<long> Evictions { get; }

    public Counter<long> Fetches { get; }

    public Counter<long> FetchErrors { get; }

    public Histogram<double> FetchDuration { get; }

    public static void Add(Counter<long> counter, in TagList tags, long delta = 1)
    {
        if (counter.Enabled)
        {
            counter.Add(delta, in tags);
        }
    }

    public void RecordFetchError(in TagList tags, Exception error)
    {
        if (FetchErrors.Enabled)
        {
            var withError = tags;
            withError.Add(TelemetryTags.ErrorType, ErrorTypeOf(error));
            FetchErrors.Add(1, in withError);
        }
    }

    public static string ErrorTypeOf(Exception error) => error switch
    {
        SecretsCacheException { ErrorCode: { } code } => code,
        _ => error.GetType().Name,
    };

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
