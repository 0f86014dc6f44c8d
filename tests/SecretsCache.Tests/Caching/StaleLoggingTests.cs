using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Logging;
using SecretsCache.Caching;
using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Caching;

/// <summary>An outage must not flood the logs: serving stale is logged once per entry per interval, while the metric counts every read.</summary>
public sealed class StaleLoggingTests
{
    [Fact]
    public async Task Serving_stale_is_logged_once_per_interval_however_many_reads()
    {
        var logs = new FakeLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        using var cache = CacheHarness.Create(o => o.MaxStaleness = TimeSpan.FromHours(1), loggers: factory);
        cache.Source.Set("app/db", "one");
        await cache.ReadAsync("app/db");
        cache.Time.Advance(cache.Options.DefaultTtl);
        cache.Source.Fail = _ => new SecretServiceUnavailableException("503", "sm:app/db", "ServiceUnavailable");

        for (var i = 0; i < 1_000; i++)
        {
            Assert.Equal("one", await cache.ReadAsync("app/db"));
        }

        Assert.Single(logs.Collector.GetSnapshot(), r => r.Message.StartsWith("Serving a stale value", StringComparison.Ordinal));

        cache.Time.Advance(CacheEngine.StaleLogInterval);
        Assert.Equal("one", await cache.ReadAsync("app/db"));
        Assert.Equal(2, logs.Collector.GetSnapshot().Count(r => r.Message.StartsWith("Serving a stale value", StringComparison.Ordinal)));
    }
}
