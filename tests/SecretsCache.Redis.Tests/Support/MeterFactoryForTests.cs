using System.Diagnostics.Metrics;

namespace SecretsCache.Redis.Tests.Support;

/// <summary>An <see cref="IMeterFactory"/> whose meters a test can hand to MetricCollector, isolated from other tests.</summary>
internal sealed class MeterFactoryForTests : IMeterFactory
{
    public List<Meter> Created { get; } = [];

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
        lock (Created)
        {
            Created.Add(meter);
        }

        return meter;
    }

    public void Dispose()
    {
        foreach (var meter in Created)
        {
            meter.Dispose();
        }
    }
}
