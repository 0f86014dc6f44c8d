using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace SecretsCache.Redis.Tests.Support;

/// <summary>An <see cref="ILoggerFactory"/> over one <see cref="FakeLoggerProvider"/>, whose collector holds every record.</summary>
internal sealed class FakeLoggerFactory : ILoggerFactory
{
    public FakeLoggerProvider Provider { get; } = new();

    public FakeLogCollector Collector => Provider.Collector;

    public ILogger CreateLogger(string categoryName) => Provider.CreateLogger(categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose() => Provider.Dispose();
}
