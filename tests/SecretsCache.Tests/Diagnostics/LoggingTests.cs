using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Logging;
using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Diagnostics;

/// <summary>
/// Logs name references, versions and error types, never values: checked over every failure path, on the rendered message,
/// each structured argument and each exception (with its inner exceptions).
/// </summary>
public sealed class LoggingTests
{
    private static readonly string[] Values = ["v-77aa-one", "v-77aa-two", "v-77aa-three", "v-77aa-four", "v-77aa-five"];

    [Fact]
    public async Task No_log_message_argument_or_exception_ever_carries_a_secret_value()
    {
        var logs = new FakeLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        using var cache = CacheHarness.Create(o =>
        {
            o.MaxEntries = 6;
            o.RefreshAheadFraction = 0.5;
            o.StaleFallbackTimeout = TimeSpan.FromSeconds(1);
        }, loggers: loggers);
        cache.Provider.Engine.VersionChanged += (_, _, _) => throw new InvalidOperationException("subscriber bug");
        cache.Source.Set("app/db", Values[0]);
        cache.Source.Set("ssm:/app/param", Values[1]);
        cache.Source.Set("app/denied", Values[2]);

        // Fetched, then a version change (with a failing subscriber) through refresh-ahead.
        await cache.ReadAsync("app/db");
        await cache.ReadAsync("ssm:/app/param");
        cache.Source.Set("app/db", Values[3]);
        cache.Time.Advance(cache.Options.DefaultTtl / 2);
        await cache.ReadAsync("app/db");

        // A refresh-ahead that fails, then stale reads through throttling and through a slow refresh.
        cache.Source.Fail = r => r.Name == "/app/param" ? Errors.Throttled(r) : null;
        await cache.ReadAsync("ssm:/app/param");
        cache.Time.Advance(cache.Options.DefaultTtl);
        Assert.Equal(Values[1], await cache.ReadAsync("ssm:/app/param"));
        cache.Source.Fail = null;
        cache.Source.Hold();
        var slow = cache.ReadAsync("app/db");
        cache.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(Values[3], await slow);
        cache.Time.Advance(cache.Options.FetchTimeout); // the slow refresh times out
        Eventually.True(() => logs.Collector.GetSnapshot().Any(r => r.Exception is SecretServiceUnavailableException { ErrorCode: "FetchTimeout" }), "the timeout to be logged");
        cache.Source.Release();

        // Access denied, then its backoff; not-found, then its negative cache; a key that goes missing.
        cache.Source.Fail = r => r.Name == "app/denied" ? Errors.AccessDenied(r) : null;
        await Assert.ThrowsAsync<SecretAccessDeniedException>(() => cache.ReadAsync("app/denied"));
        await Assert.ThrowsAsync<SecretAccessDeniedException>(() => cache.ReadAsync("app/denied"));
        await Assert.ThrowsAsync<SecretNotFoundException>(() => cache.ReadAsync("app/missing"));
        cache.Source.Remove("ssm:/app/param");
        cache.Time.Advance(TimeSpan.FromMinutes(2));
        await Assert.ThrowsAsync<SecretNotFoundException>(() => cache.ReadAsync("ssm:/app/param"));

        // A warm-up with failures, and evictions.
        cache.Source.Set("app/w1", Values[4]);
        var warm = await cache.Provider.WarmUpAsync(["app/w1", "app/w-missing", "app/denied"]);
        Assert.False(warm.Succeeded);
        for (var i = 0; i < 10; i++)
        {
            cache.Source.Set($"app/filler{i}", Values[i % Values.Length]);
            await cache.ReadAsync($"app/filler{i}");
        }

        var records = logs.Collector.GetSnapshot();
        foreach (var expected in new[] { 1, 2, 3, 4, 5, 6, 7, 8 })
        {
            Assert.Contains(records, r => r.Id.Id == expected);
        }

        Assert.Contains(records, r => r.Level == LogLevel.Warning && r.Exception is SecretThrottledException);
        foreach (var record in records)
        {
            AssertNoValue(record.Message);
            Assert.All(record.StructuredState ?? [], pair => AssertNoValue(pair.Value?.ToString()));
            for (var error = record.Exception; error is not null; error = error.InnerException)
            {
                AssertNoValue(error.Message);
            }
        }
    }

    private static void AssertNoValue(string? text)
    {
        foreach (var value in Values)
        {
            Assert.DoesNotContain(value, text ?? string.Empty, StringComparison.Ordinal);
        }
    }
}
