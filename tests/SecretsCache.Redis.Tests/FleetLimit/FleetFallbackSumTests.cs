using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using SecretsCache.Redis.FleetLimit;
using SecretsCache.Redis.Tests.Provider;
using SecretsCache.Redis.Tests.Support;
using SecretsCache.Testing;
using Xunit.Abstractions;

namespace SecretsCache.Redis.Tests.FleetLimit;

/// <summary>
/// What a fleet sends to AWS while Redis is unreachable, summed: several whole providers (each its own connection), one
/// emulator, every provider wanting far more than its static share, and every one-second window of the clock the providers
/// and the emulator share holding at most the quota. The clock is a fake one that moves only once every request a share
/// has let through has arrived, so each request is stamped with the moment its share granted it. A server of its own per
/// test (it is killed, or never reached).
/// </summary>
public sealed class FleetFallbackSumTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string GetSecretValue = "secretsmanager.GetSecretValue";
    private const int Instances = 6;
    private const int ReadsEach = 60; // far more than a share lets through in the windows the lower bound looks at
    private const double Quota = 120;
    private const double BurstSeconds = 1; // a share's burst is a whole second of its rate: the sizing rule halves the share for it
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(50); // a quarter of the slowest share's refill period
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly FakeTimeProvider _time = new(TimeProvider.System.GetUtcNow()); // near the real time: the emulator checks signatures' dates
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private AwsEmulator _aws = null!;
    private RedisServer _server = null!;
    private FleetProviders _fleet = null!;

    public async Task InitializeAsync()
    {
        (_aws, _server, _fleet) = await FleetProviders.StartServersAsync(new AwsEmulatorOptions { TimeProvider = _time }); // arrivals on the providers' clock
        for (var i = 0; i < Instances * ReadsEach; i++)
        {
            _aws.CreateSecret(Name(i), "value-" + i.ToString(CultureInfo.InvariantCulture));
        }
    }

    public async Task DisposeAsync()
    {
        await FleetProviders.StopServersAsync(_aws, _server, _fleet);
        await _services.DisposeAsync();
    }

    [RedisFact]
    public async Task Redis_killed_under_a_fleet_that_saw_itself_the_fleet_sends_at_most_the_quota_in_every_second_near_quota_over_margin()
    {
        // FallbackFleetSize 1: a share that ignored the observed fleet would be the whole quota for each of the six.
        static void Configure(RedisL2Options o)
        {
            Share(o);
            o.FleetRateLimits.FallbackFleetSize = 1;
        }

        var meters = _services.GetRequiredService<IMeterFactory>();
        var providers = new SecretProvider[Instances];
        for (var i = 0; i < providers.Length; i++)
        {
            providers[i] = await _fleet.StartAsync(configureRedis: Configure, time: _time, meters: meters);
        }

        var levels = providers.Select(FleetProviders.LevelOf).ToArray();
        for (var elapsed = TimeSpan.Zero; elapsed < FleetPresence.Window; elapsed += FleetPresence.Interval)
        {
            await FleetPresenceTests.RefreshAllByTimerAsync(levels, _time);
        }

        var fleetSize = (int)Math.Ceiling(Instances * new RedisFleetRateLimitOptions().FallbackGrowthMargin);
        Assert.All(levels, l => Assert.Equal(fleetSize, FleetPresenceTests.Presence(l).FallbackSize(1, 2)));

        var failed = RedisRestartTests.Failed(levels);
        await _server.KillAsync();
        await failed.WaitAsync(Bound);

        var sent = await ReadEverythingAsync(providers, meters);

        // Each share is the quota over 12 instances, by the sizing rule: 5/s, a second's burst (5) on top, so six instances
        // send at most 60 in a second (quota / margin), and 30 a second once their shares run empty.
        AssertEverySecondWithin(sent, Quota);
        AssertEverySecondWithin(sent, Quota / new RedisFleetRateLimitOptions().FallbackGrowthMargin);
        AssertBusySecondsAtLeast(sent, 0.75 * Instances * ShareOf(fleetSize), seconds: 6);
        Assert.All(levels, l => Assert.Equal(fleetSize, l.FleetLimiter[FleetQuota.SecretsManager]!.FallbackFleetSize));
    }

    [RedisFact]
    public async Task Providers_that_never_reached_Redis_share_the_quota_by_FallbackFleetSize_and_the_fleet_stays_within_it()
    {
        static void Configure(RedisL2Options o)
        {
            Share(o);
            o.ConnectTimeout = TimeSpan.FromSeconds(1);
            o.OperationTimeout = TimeSpan.FromSeconds(1); // a subscription sent to the dead port fails within it
            o.FleetRateLimits.FallbackFleetSize = Instances; // the documented sizing: the most instances that may start with Redis down
        }

        await _server.KillAsync(); // down from the start: nothing ever answers on its port
        var meters = _services.GetRequiredService<IMeterFactory>();
        using var down = new Disposables();
        var providers = await Task.WhenAll(Enumerable.Range(0, Instances).Select(async _ => down.Add(
            await RedisSecretProvider.CreateAsync(_fleet.Options(), _fleet.RedisOptions(Configure), timeProvider: _time, meterFactory: meters))));
        var levels = providers.Select(FleetProviders.LevelOf).ToArray();
        Assert.All(levels, l => Assert.Equal(0, FleetPresenceTests.Presence(l).ObservedSize));

        var sent = await ReadEverythingAsync(providers, meters);

        // Each share is 10/s and starts full (a second's burst): six send at most the quota in their first second, and 60 a
        // second after it.
        AssertEverySecondWithin(sent, Quota);
        AssertBusySecondsAtLeast(sent, 0.75 * Instances * ShareOf(Instances), seconds: 4);
        Assert.All(levels, l => Assert.Equal(Instances, l.FleetLimiter[FleetQuota.SecretsManager]!.FallbackFleetSize));
    }

    private static void Share(RedisL2Options o)
    {
        o.FleetRateLimits.SecretsManagerRequestsPerSecond = Quota;
        o.FleetRateLimits.BurstSeconds = BurstSeconds;
    }

    /// <summary>One instance's rate in a fleet of <paramref name="fleetSize"/>: quota / (size × (1 + burst)), the documented rule.</summary>
    private static double ShareOf(int fleetSize) => Quota / (fleetSize * (1 + BurstSeconds));

    private static string Name(int i) => "app/s" + i.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Starts every provider's reads of its own keys at once (each a miss that goes to AWS), then moves the clock on a step at
    /// a time, each step only once the fleet is quiescent, until every read has its value. Returns when each request arrived.
    /// </summary>
    private async Task<DateTimeOffset[]> ReadEverythingAsync(SecretProvider[] providers, IMeterFactory meters)
    {
        using var fallbacks = new MetricCollector<long>(meters, SecretsCacheTelemetry.MeterName, "secretscache.fleet_limiter.fallbacks");
        var start = _time.GetUtcNow();
        var before = _aws.Requests.Count(GetSecretValue);
        var reads = providers.Select((p, n) => Enumerable.Range(n * ReadsEach, ReadsEach).Select(i => p.GetStringAsync(Name(i)).AsTask()).ToArray()).ToArray();
        var limiters = providers.Select(p => FleetProviders.LevelOf(p).FleetLimiter[FleetQuota.SecretsManager]!).ToArray();
        await Wait.UntilAsync(() => Quiescent(reads, limiters, fallbacks, before), seconds: 60);
        for (var step = 0; step < 2_000 && reads.Any(r => r.Any(t => !t.IsCompleted)); step++)
        {
            _time.Advance(Step);
            await Wait.UntilAsync(() => Quiescent(reads, limiters, fallbacks, before), seconds: 60);
        }

        for (var n = 0; n < reads.Length; n++)
        {
            for (var i = 0; i < ReadsEach; i++)
            {
                Assert.Equal("value-" + ((n * ReadsEach) + i).ToString(CultureInfo.InvariantCulture), await reads[n][i].WaitAsync(Bound));
            }
        }

        var sent = _aws.Requests.Snapshot().Where(r => r.Operation == GetSecretValue && r.ArrivedAt >= start).Select(r => r.ArrivedAt).Order().ToArray();
        Assert.Equal(Instances * ReadsEach, sent.Length); // one request per read: nothing retried, nothing from elsewhere
        var fromStart = sent.Select(t => t - (start - DateTimeOffset.UnixEpoch)).ToArray();
        output.WriteLine("Requests per second from the start of the reads: " + PerSecond(fromStart));
        return fromStart;
    }

    /// <summary>
    /// Whether every request a share has granted has arrived, and every provider still reading waits in its share for the next
    /// token (so nothing moves until the clock does). A caller counts a fallback as it enters the share, before it waits, and
    /// the next caller enters only once the last was granted: so granted = entered − waiting, and each grant is one request.
    /// </summary>
    private bool Quiescent(Task<string>[][] reads, FleetQuotaLimiter[] limiters, MetricCollector<long> fallbacks, int before)
    {
        var waiting = 0L;
        for (var n = 0; n < reads.Length; n++)
        {
            if (reads[n].All(r => r.IsCompleted))
            {
                continue;
            }

            if (limiters[n].FallbackQueued != 1)
            {
                return false;
            }

            waiting++;
        }

        var entered = fallbacks.GetMeasurementSnapshot().Sum(m => m.Value);
        return _aws.Requests.Count(GetSecretValue) - before == entered - waiting;
    }

    /// <summary>Every window of one second that starts at an arrival (the busiest ones) holds at most <paramref name="limit"/> arrivals.</summary>
    private static void AssertEverySecondWithin(DateTimeOffset[] sent, double limit)
    {
        var (busiest, at) = sent.Select((t, i) => (Count: sent.Skip(i).TakeWhile(u => u < t + Second).Count(), At: t)).MaxBy(w => w.Count);
        Assert.True(busiest <= limit, $"{busiest} requests arrived in the second from {(at - DateTimeOffset.UnixEpoch).TotalSeconds:0.000} s, more than {limit}; per second: {PerSecond(sent)}");
    }

    /// <summary>Each of the first <paramref name="seconds"/> seconds, while every provider still wanted more, holds at least <paramref name="least"/> arrivals.</summary>
    private static void AssertBusySecondsAtLeast(DateTimeOffset[] sent, double least, int seconds)
    {
        for (var s = 0; s < seconds; s++)
        {
            var from = DateTimeOffset.UnixEpoch + (s * Second);
            var count = sent.Count(t => t >= from && t < from + Second);
            Assert.True(count >= least, $"only {count} requests arrived in second {s}, fewer than {least}; per second: {PerSecond(sent)}");
        }
    }

    private static string PerSecond(DateTimeOffset[] sent) =>
        string.Join(' ', sent.GroupBy(t => (int)(t - DateTimeOffset.UnixEpoch).TotalSeconds).OrderBy(g => g.Key).Select(g => g.Count().ToString(CultureInfo.InvariantCulture)));

    /// <summary>Providers made here rather than by <see cref="FleetProviders"/>, which waits for subscriptions a dead Redis never makes.</summary>
    private sealed class Disposables : IDisposable
    {
        private readonly List<SecretProvider> _providers = [];

        public SecretProvider Add(SecretProvider provider)
        {
            lock (_providers)
            {
                _providers.Add(provider);
            }

            return provider;
        }

        public void Dispose() => _providers.ForEach(p => p.Dispose());
    }
}
