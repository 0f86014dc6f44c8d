using System.Diagnostics.Metrics;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Diagnostics;

/// <summary>
/// The <c>SecretsCache</c> meter and activity source: what each instrument counts, the low-cardinality tags on every
/// measurement, names only when allowed, and never a value.
/// </summary>
[Collection(GlobalListenersCollection.Name)]
public sealed class TelemetryTests
{
    private const string Hits = "secretscache.cache.hits";
    private const string Misses = "secretscache.cache.misses";
    private const string StaleServed = "secretscache.cache.stale_served";
    private const string Evictions = "secretscache.cache.evictions";
    private const string Fetches = "secretscache.fetches";
    private const string FetchErrors = "secretscache.fetch.errors";
    private const string FetchDuration = "secretscache.fetch.duration";

    private static readonly string[] Values = ["v-3f1c9e-alpha", "v-3f1c9e-bravo", "v-3f1c9e-charlie", "v-3f1c9e-delta"];

    /// <summary>Drives every instrument: misses, fetches, hits, an error, a stale read and evictions, over three kinds.</summary>
    private static async Task DriveAsync(CacheHarness cache)
    {
        cache.Source.Set("app/db", Values[0]);
        cache.Source.Set("ssm:/app/param", Values[1]);
        cache.Source.Set("/aws/reference/secretsmanager/app/pass", Values[2]);
        cache.Source.Set("app/denied", Values[3]);
        cache.Source.Fail = r => r.Name == "app/denied" ? Errors.AccessDenied(r) : null;

        await cache.ReadAsync("app/db");
        await cache.ReadAsync("app/db");
        await cache.ReadAsync("ssm:/app/param");
        await cache.ReadAsync("/aws/reference/secretsmanager/app/pass");
        await Assert.ThrowsAsync<SecretAccessDeniedException>(() => cache.ReadAsync("app/denied"));

        cache.Time.Advance(cache.Options.DefaultTtl);
        cache.Source.Fail = Errors.Throttled;
        Assert.Equal(Values[0], await cache.ReadAsync("app/db")); // stale
        cache.Source.Fail = null;

        for (var i = 0; i < cache.Options.MaxEntries + 2; i++)
        {
            cache.Source.Set($"app/filler{i}", "f");
            await cache.ReadAsync($"app/filler{i}");
        }
    }

    private static CacheHarness Create(IMeterFactory meters, bool includeNames) =>
        CacheHarness.Create(o =>
        {
            o.IncludeNamesInTelemetry = includeNames;
            o.MaxEntries = 5;
        }, meters: meters);

    [Fact]
    public async Task The_meter_reports_hits_misses_fetches_errors_stale_reads_evictions_and_durations()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        using var metrics = new CacheMetrics(meters);
        using var cache = Create(meters, includeNames: false);

        await DriveAsync(cache);

        Assert.Equal(1, metrics.Sum(Hits));
        Assert.Equal(5 + 7, metrics.Sum(Misses)); // four cold keys, one expired, seven fillers
        Assert.Equal(cache.Source.Calls, metrics.Sum(Fetches));
        Assert.Equal(cache.Source.Calls, metrics.Of(FetchDuration).Count);
        Assert.Equal(1, metrics.Sum(StaleServed));
        Assert.True(metrics.Sum(Evictions) >= 2);

        var errors = metrics.Of(FetchErrors);
        Assert.Equal(["AccessDeniedException", "ThrottlingException"], errors.Select(e => (string?)e.Tag("error.type")).Order());

        Assert.Equal(("secretsmanager", "secret"), Tags(Assert.Single(metrics.Of(Hits))));
        Assert.Contains(("ssm", "parameter"), metrics.Of(Fetches).Select(Tags));
        Assert.Contains(("ssm", "passthrough"), metrics.Of(Fetches).Select(Tags));
        Assert.Equal(("secretsmanager", "secret"), Tags(Assert.Single(metrics.Of(StaleServed))));
        Assert.All(metrics.All, m =>
        {
            Assert.Contains(Tags(m), new (string?, string?)[] { ("secretsmanager", "secret"), ("ssm", "parameter"), ("ssm", "passthrough") });
            Assert.False(m.Tags.ContainsKey("secretscache.name"), $"{m.Instrument} carried a name");
        });
    }

    [Fact]
    public async Task Names_are_tagged_only_when_IncludeNamesInTelemetry_is_on()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        using var metrics = new CacheMetrics(meters);
        using var cache = Create(meters, includeNames: true);

        await DriveAsync(cache);

        Assert.All(metrics.All, m => Assert.IsType<string>(m.Tag("secretscache.name")));
        Assert.Contains(metrics.Of(Hits), m => (string?)m.Tag("secretscache.name") == "app/db");
        Assert.Contains(metrics.Of(Fetches), m => (string?)m.Tag("secretscache.name") == "/app/param");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task No_tag_value_ever_equals_or_contains_a_secret_value(bool includeNames)
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        using var metrics = new CacheMetrics(meters);
        using var cache = Create(meters, includeNames);

        await DriveAsync(cache);

        Assert.NotEmpty(metrics.All);
        Assert.All(metrics.All.SelectMany(m => m.Tags.Values), tag => AssertNoValue(tag?.ToString()));
    }

    [Fact]
    public async Task Fetch_duration_is_measured_on_the_providers_clock_in_seconds()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        using var metrics = new CacheMetrics(meters);
        using var cache = Create(meters, includeNames: false);
        cache.Source.Set("app/db", "x");
        cache.Source.Hold();

        var read = cache.ReadAsync("app/db");
        cache.Time.Advance(TimeSpan.FromSeconds(2.5));
        cache.Source.Release();
        await read;

        Assert.Equal(2.5, Assert.Single(metrics.Of(FetchDuration)).Value, 6);
    }

    [Fact]
    public async Task The_meter_comes_from_the_hosts_IMeterFactory()
    {
        await using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        var instruments = new List<Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    lock (instruments)
                    {
                        instruments.Add(instrument);
                    }

                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        long hits = 0;
        listener.SetMeasurementEventCallback<long>((i, v, _, _) =>
        {
            if (i.Name == Hits)
            {
                Interlocked.Add(ref hits, v);
            }
        });
        listener.Start();
        using var cache = CacheHarness.Create(meters: factory);
        cache.Source.Set("app/db", "x");

        await cache.ReadAsync("app/db");
        await cache.ReadAsync("app/db");

        Assert.Equal(1, Interlocked.Read(ref hits));
        Assert.All(instruments, i => Assert.Equal(SecretsCacheTelemetry.MeterName, i.Meter.Name));
        Assert.Contains(instruments, i => i.Name == FetchDuration);
        Assert.Equal(CacheMetrics.Instruments.Order(), instruments.Select(i => i.Name).Distinct().Order()); // what CacheMetrics.All covers
    }

    [Fact]
    public async Task Without_a_factory_the_provider_makes_its_own_SecretsCache_meter_and_releases_it_on_Dispose()
    {
        var meters = new List<Meter>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == SecretsCacheTelemetry.MeterName && instrument.Meter.Scope is null)
                {
                    lock (meters)
                    {
                        meters.Add(instrument.Meter);
                    }
                }
            },
        };
        listener.Start();
        var existing = meters.ToHashSet(); // meters of providers that were never disposed (see OptionsValidationTests)
        var cache = CacheHarness.Create();
        cache.Source.Set("app/db", "x");
        await cache.ReadAsync("app/db");
        var meter = Assert.Single(meters.Distinct().Except(existing));
        var published = new List<Instrument>();
        using (var probe = new MeterListener { InstrumentPublished = (i, _) => { if (i.Meter == meter) { published.Add(i); } } })
        {
            probe.Start();
            Assert.NotEmpty(published);
        }

        cache.Dispose();

        published.Clear();
        using var after = new MeterListener { InstrumentPublished = (i, _) => { if (i.Meter == meter) { published.Add(i); } } };
        after.Start();
        Assert.Empty(published);
    }

    [Fact]
    public async Task Each_backend_fetch_produces_one_fetch_activity_with_the_same_tags()
    {
        using var activities = new FetchActivities();
        using var test = new Activity("test").Start(); // ours are its children, so other activities are ignored
        using var cache = CacheHarness.Create(o => o.IncludeNamesInTelemetry = true);
        cache.Source.Set("app/db", Values[0]);
        cache.Source.Set("ssm:/app/param", Values[1]);
        cache.Source.Fail = r => r.Name == "app/denied" ? Errors.AccessDenied(r) : null;

        await cache.ReadAsync("app/db");
        await cache.ReadAsync("app/db"); // a hit: no activity
        await cache.ReadAsync("ssm:/app/param");
        await Assert.ThrowsAsync<SecretAccessDeniedException>(() => cache.ReadAsync("app/denied"));

        var ours = activities.Stopped(test.TraceId);

        Assert.Equal(3, ours.Count);
        Assert.All(ours, a => Assert.Equal("secretscache.fetch", a.OperationName));
        var byName = ours.ToDictionary(a => (string)a.GetTagItem("secretscache.name")!);
        Assert.Equal("secretsmanager", byName["app/db"].GetTagItem("secretscache.source"));
        Assert.Equal("secret", byName["app/db"].GetTagItem("secretscache.kind"));
        Assert.Equal(ActivityStatusCode.Unset, byName["app/db"].Status);
        Assert.Equal("ssm", byName["/app/param"].GetTagItem("secretscache.source"));
        Assert.Equal("parameter", byName["/app/param"].GetTagItem("secretscache.kind"));
        Assert.Equal(ActivityStatusCode.Error, byName["app/denied"].Status);
        Assert.Equal("AccessDeniedException", byName["app/denied"].GetTagItem("error.type"));
        Assert.All(ours.SelectMany(a => a.TagObjects), t => AssertNoValue(t.Value?.ToString()));
        Assert.All(ours, a => AssertNoValue(a.StatusDescription));
    }

    [Fact]
    public async Task Fetch_activities_carry_no_name_unless_allowed()
    {
        using var activities = new FetchActivities();
        using var test = new Activity("test").Start();
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/db", Values[0]);

        await cache.ReadAsync("app/db");

        var fetch = Assert.Single(activities.Stopped(test.TraceId));

        Assert.Null(fetch.GetTagItem("secretscache.name"));
        Assert.Equal("secret", fetch.GetTagItem("secretscache.kind"));
    }

    /// <summary>Collects the library's activities as they stop; a test keeps those of its own trace.</summary>
    private sealed class FetchActivities : IDisposable
    {
        private readonly List<Activity> _stopped = [];
        private readonly ActivityListener _listener;

        public FetchActivities()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == SecretsCacheTelemetry.ActivitySourceName,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = activity =>
                {
                    lock (_stopped)
                    {
                        _stopped.Add(activity);
                    }
                },
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public List<Activity> Stopped(ActivityTraceId trace)
        {
            lock (_stopped)
            {
                return [.. _stopped.Where(a => a.TraceId == trace)];
            }
        }

        public void Dispose() => _listener.Dispose();
    }

    private static (string?, string?) Tags(Measurement m) =>
        ((string?)m.Tag("secretscache.source"), (string?)m.Tag("secretscache.kind"));

    private static void AssertNoValue(string? text)
    {
        foreach (var value in Values)
        {
            Assert.DoesNotContain(value, text ?? string.Empty, StringComparison.Ordinal);
        }
    }
}
