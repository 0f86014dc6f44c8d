using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using SecretsCache.Hosting.Tests.Support;
using SecretsCache.Testing;

namespace SecretsCache.Hosting.Tests.Health;

public sealed class HealthCheckTests(EmulatorFixture emulator) : IClassFixture<EmulatorFixture>
{
    private AwsEmulator Aws => emulator.Aws;

    [Fact]
    public async Task Healthy_then_degraded_while_stale_values_are_served_then_healthy_again()
    {
        Aws.CreateSecret("health/db", "hv-secret-value");
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var container = Build(clock, o => { o.DefaultTtl = TimeSpan.FromSeconds(10); o.TtlJitter = 0; o.FailureBackoff = TimeSpan.FromSeconds(1); }, ["health/db"]);
        var health = container.GetRequiredService<HealthCheckService>();

        var healthy = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Healthy, healthy.Status);

        Aws.Faults.FailNext(1, 503);
        clock.Advance(TimeSpan.FromSeconds(11));
        var degraded = await health.CheckHealthAsync();

        Assert.Equal(HealthStatus.Degraded, degraded.Status);
        var entry = degraded.Entries["secretscache"];
        Assert.Contains("served stale", entry.Description);
        Assert.Equal(1, entry.Data["servingStale"]);
        Assert.DoesNotContain("hv-secret-value", Describe(degraded));

        // The check was answered stale as soon as the outage was seen, which can be before the failed refresh has ended and
        // recorded its failure (and its backoff, from then on this clock): wait, bounded, for that first.
        var provider = container.GetRequiredService<SecretProvider>();
        Assert.True(SpinWait.SpinUntil(() => provider.GetHealth().Failing == 1, TimeSpan.FromSeconds(30)), "the failed refresh never ended");

        // Past the failure backoff the next read refreshes. The instance saw an outage, so that read is answered stale at once
        // while the refresh runs against the emulator (real I/O): wait, bounded, for the refresh to land.
        clock.Advance(TimeSpan.FromSeconds(2));
        _ = await health.CheckHealthAsync();
        Assert.True(SpinWait.SpinUntil(() => provider.GetHealth().ServingStale == 0, TimeSpan.FromSeconds(30)), "the refresh never landed");
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);
    }

    [Fact]
    public async Task Unhealthy_when_a_required_reference_cannot_be_read()
    {
        Aws.CreateSecret("health/denied", "never-shown");
        Aws.DenyAccess("health/denied");
        await using var container = Build(TimeProvider.System, null, ["health/denied", "health/missing"]);

        var report = await container.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        var entry = report.Entries["secretscache"];
        Assert.Contains("2 required secret reference(s) cannot be read", entry.Description);
        Assert.Contains("health/denied (AccessDeniedException)", entry.Description);
        Assert.Contains("health/missing (ResourceNotFoundException)", entry.Description);
        Assert.DoesNotContain("never-shown", Describe(report));
    }

    [Fact]
    public async Task A_named_provider_is_checked_under_its_own_name()
    {
        Aws.CreateSecret("health/eu", "x");
        var services = new ServiceCollection();
        services.AddSecretsCache("eu", o => o.UseEmulator(Aws));
        services.AddHealthChecks().AddSecretsCache(["health/eu"], providerName: "eu", tags: ["ready"]);
        await using var container = services.BuildServiceProvider();

        var report = await container.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        Assert.Equal(HealthStatus.Healthy, report.Entries["secretscache-eu"].Status);
        Assert.Contains("ready", report.Entries["secretscache-eu"].Tags);
    }

    private ServiceProvider Build(TimeProvider clock, Action<SecretsCacheOptions>? configure, string[] required)
    {
        var services = new ServiceCollection();
        services.AddSingleton(clock);
        services.AddSecretsCache(o =>
        {
            o.UseEmulator(Aws);
            o.Retry.MaxRetryAttempts = 0;
            configure?.Invoke(o);
        });
        services.AddSecretsCacheHealthCheck(required);
        return services.BuildServiceProvider();
    }

    private static string Describe(HealthReport report) =>
        string.Join(" ", report.Entries.Select(e => e.Value.Description + " " + string.Join(",", e.Value.Data.Select(d => $"{d.Key}={Flatten(d.Value)}")) + e.Value.Exception));

    private static string Flatten(object value) => value is string[] items ? string.Join(",", items) : value.ToString() ?? "";
}
