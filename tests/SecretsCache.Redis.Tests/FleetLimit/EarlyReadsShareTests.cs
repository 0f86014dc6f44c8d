using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using SecretsCache.Redis.FleetLimit;
using SecretsCache.Redis.Tests.Provider;
using SecretsCache.Redis.Tests.Support;
using SecretsCache.Testing;

namespace SecretsCache.Redis.Tests.FleetLimit;

/// <summary>
/// A provider made with <see cref="RedisSecretProvider.Create"/> (or by <c>AddSecretsCacheRedis</c>) may read before its
/// level is made; those reads are limited by its static share. Once the level is made and Redis cannot answer, the level
/// falls back to that same share, so what the early reads spent stays spent: one share, not two. Before the fix the level
/// came with a fresh, full share of its own, and the instance sent two bursts at once.
/// </summary>
public sealed class EarlyReadsShareTests : IAsyncLifetime
{
    private const string GetSecretValue = "secretsmanager.GetSecretValue";
    private const int ReadsEach = 30;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly FakeTimeProvider _time = new(TimeProvider.System.GetUtcNow()); // the emulator checks signatures' dates
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly TcpListener _silent = new(IPAddress.Loopback, 0); // accepts, never answers: a level that takes its connect timeout to be made
    private readonly List<Socket> _accepted = [];
    private AwsEmulator _aws = null!;

    public async Task InitializeAsync()
    {
        _aws = await AwsEmulator.StartAsync(new AwsEmulatorOptions { TimeProvider = _time });
        for (var i = 0; i < 2 * ReadsEach; i++)
        {
            _aws.CreateSecret(Name(i), "value-" + i.ToString(CultureInfo.InvariantCulture));
        }

        _silent.Start();
        _ = AcceptForeverAsync();
    }

    public async Task DisposeAsync()
    {
        _silent.Stop();
        lock (_accepted)
        {
            _accepted.ForEach(s => s.Dispose());
        }

        await _services.DisposeAsync();
        await _aws.DisposeAsync();
    }

    [Fact]
    public async Task Reads_before_and_after_the_level_is_made_share_one_static_share()
    {
        var redis = Levels.Options($"127.0.0.1:{((IPEndPoint)_silent.LocalEndpoint).Port}", Levels.NewNamespace(), Levels.NewKey(), o =>
        {
            o.ConnectTimeout = TimeSpan.FromSeconds(2);
            o.FleetRateLimits.SecretsManagerRequestsPerSecond = 120;
            o.FleetRateLimits.BurstSeconds = 1;
            o.FleetRateLimits.FallbackFleetSize = 6; // a share of 120 / (6 x 2) = 10/s, starting full: 10 at once
        });
        var meters = _services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var fallbacks = new MetricCollector<long>(meters, SecretsCacheTelemetry.MeterName, "secretscache.fleet_limiter.fallbacks");
        using var provider = RedisSecretProvider.Create(new SecretsCacheOptions().UseEmulator(_aws), redis, timeProvider: _time, meterFactory: meters);
        var fleet = FleetProviders.Of(provider);

        // The clock never moves: every request sent is one a share granted at this instant.
        var early = Enumerable.Range(0, ReadsEach).Select(i => provider.GetStringAsync(Name(i)).AsTask()).ToArray();
        await Wait.UntilAsync(() => fleet.StaticShareQueued(FleetQuota.SecretsManager) == ReadsEach - Sent(), seconds: 60);
        Assert.Null(fleet.Level); // still connecting: these were limited by the provider's own share
        Assert.Equal(10, Sent());
        var grantedEarly = Sent();

        await fleet.Ready.WaitAsync(Bound);
        var limiter = FleetProviders.LevelOf(provider).FleetLimiter[FleetQuota.SecretsManager]!;
        var late = Enumerable.Range(ReadsEach, ReadsEach).Select(i => provider.GetStringAsync(Name(i)).AsTask()).ToArray();

        // Quiescent: a late read waits in the level's fallback, and every grant has arrived (early ones, plus each caller
        // that entered the fallback but the one still waiting there).
        int LateWaiting() => (int)limiter.FallbackQueued - (fleet.LevelFallsBackToStaticShare(FleetQuota.SecretsManager) ? ReadsEach - grantedEarly : 0);
        long Entered() => fallbacks.GetMeasurementSnapshot().Sum(m => m.Value);
        await Wait.UntilAsync(() => LateWaiting() == 1 && Sent() == grantedEarly + Entered() - 1, seconds: 60);

        Assert.Equal(10, Sent()); // one share's burst in all; two shares sent 20
        Assert.True(fleet.LevelFallsBackToStaticShare(FleetQuota.SecretsManager));
    }

    private int Sent() => _aws.Requests.Count(GetSecretValue);

    private static string Name(int i) => "early/s" + i.ToString(CultureInfo.InvariantCulture);

    private async Task AcceptForeverAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _silent.AcceptSocketAsync();
                lock (_accepted)
                {
                    _accepted.Add(socket);
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // stopped
        }
    }
}
