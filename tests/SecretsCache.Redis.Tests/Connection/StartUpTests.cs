using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using SecretsCache.Redis.Tests.Support;

namespace SecretsCache.Redis.Tests.Connection;

/// <summary>
/// A level made while Redis is up is up when it is handed out: both subscriptions made, no error counted. The connect
/// returns before the subscription connection, and a SUBSCRIBE sent before it failed at once (seen in the fleet benchmark:
/// two errors per instance, and a start without the lease results).
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class StartUpTests(RedisServer server)
{
    [RedisFact]
    public async Task Levels_made_while_Redis_is_up_start_subscribed_without_an_error()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        using var errors = new MetricCollector<long>(meters, SecretsCacheTelemetry.MeterName, "secretscache.l2.errors");
        var ns = Levels.NewNamespace();
        var key = Levels.NewKey();

        for (var i = 0; i < 8; i++)
        {
            await using var level = await Levels.CreateAsync(server, ns, key, meters: meters, waitForSubscriptions: false);
            Assert.True(level.IsUp, $"level {i} was handed out before its lease results were subscribed");
            Assert.True(level.Backplane.IsSubscribed, $"level {i} was handed out before its backplane was subscribed");
        }

        Assert.Empty(errors.GetMeasurementSnapshot());
    }
}
