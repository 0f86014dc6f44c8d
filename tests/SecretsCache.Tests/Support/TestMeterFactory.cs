using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace SecretsCache.Tests.Support;

/// <summary>A tiny <see cref="IMeterFactory"/> that remembers the meters it made, so a listener can pick out exactly those.</summary>
internal sealed class TestMeterFactory : IMeterFactory
{
    public ConcurrentBag<Meter> Meters { get; } = [];

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
        Meters.Add(meter);
        return meter;
    }

    public void Dispose()
    {
        foreach (var meter in Meters)
        {
            meter.Dispose();
        }
    }
}
