using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace SecretsCache.Tests.Support;

/// <summary>One collected measurement of any SecretsCache instrument: its name, value and tags.</summary>
internal sealed record Measurement(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
{
    public object? Tag(string name) => Tags.TryGetValue(name, out var value) ? value : null;
}

/// <summary>
/// Microsoft's <see cref="MetricCollector{T}"/> on each instrument of the SecretsCache meter made by one
/// <see cref="IMeterFactory"/> (its scope), so tests running in parallel, each with its own factory, never see each other's
/// measurements. <see cref="Instruments"/> lists the meter's instruments; TelemetryTests checks the meter publishes exactly those.
/// </summary>
internal sealed class CacheMetrics : IDisposable
{
    /// <summary>Every instrument of the SecretsCache meter, by name; the duration histogram records doubles, the counters longs.</summary>
    public static readonly IReadOnlyList<string> Instruments =
    [
        "secretscache.cache.hits", "secretscache.cache.misses", "secretscache.cache.stale_served", "secretscache.cache.evictions",
        "secretscache.fetches", "secretscache.fetch.errors", "secretscache.fetch.duration",
    ];

    private const string Durations = "secretscache.fetch.duration";

    private readonly Dictionary<string, MetricCollector<long>> _counters;
    private readonly MetricCollector<double> _durations;

    public CacheMetrics(IMeterFactory factory)
    {
        _counters = Instruments.Where(i => i != Durations)
            .ToDictionary(i => i, i => new MetricCollector<long>(factory, SecretsCacheTelemetry.MeterName, i), StringComparer.Ordinal);
        _durations = new MetricCollector<double>(factory, SecretsCacheTelemetry.MeterName, Durations);
    }

    public IReadOnlyList<Measurement> All => [.. Instruments.SelectMany(Of)];

    public IReadOnlyList<Measurement> Of(string instrument) => instrument == Durations
        ? [.. _durations.GetMeasurementSnapshot().Select(m => new Measurement(instrument, m.Value, m.Tags))]
        : [.. _counters[instrument].GetMeasurementSnapshot().Select(m => new Measurement(instrument, m.Value, m.Tags))];

    public double Sum(string instrument) => Of(instrument).Sum(m => m.Value);

    public void Dispose()
    {
        foreach (var collector in _counters.Values)
        {
            collector.Dispose();
        }

        _durations.Dispose();
    }
}
