using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using ZiggyCreatures.Caching.Fusion;

namespace SecretsCache.Benchmarks;

/// <summary>
/// A cache hit on one hot key, single-threaded, side by side with the floor (a bare ConcurrentDictionary lookup), what users
/// write by hand (IMemoryCache.GetOrCreateAsync guarded by a SemaphoreSlim), and the caches people use instead: HybridCache
/// and FusionCache, each read through its get-or-create call with a factory, as an application reads a secret.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
[IterationTime(250)]
public class HotPathBenchmarks
{
    private const string Key = "sm:app/db-creds";
    private readonly ConcurrentDictionary<string, Secret> _dictionary = new(StringComparer.Ordinal);
    private readonly MemoryCache _memoryCache = new(new MemoryCacheOptions());
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly HybridCache _hybrid = Fixtures.Hybrid();
    private readonly FusionCache _fusion = Fixtures.Fusion();
    private SecretProvider _provider = null!;
    private SecretProvider _refreshAhead = null!;

    [GlobalSetup]
    public void Setup()
    {
        _dictionary[Key] = new Secret("app/db-creds", "value");
        _memoryCache.Set(Key, new Secret("app/db-creds", "value"), TimeSpan.FromMinutes(5));
        _provider = new SecretProvider(new StaticSource(), new SecretsCacheOptions());
        _ = _provider.GetAsync(Key).AsTask().GetAwaiter().GetResult();
        var secret = new Secret("app/db-creds", "value");
        _ = _hybrid.GetOrCreateAsync(Key, secret, static (s, _) => ValueTask.FromResult(new CachedSecret(s))).AsTask().GetAwaiter().GetResult();
        _ = _fusion.GetOrSet(Key, _ => new CachedSecret(secret));

        // An entry inside its refresh-ahead window, with the refresh held in flight: every hit checks and skips it.
        var clock = new ManualClock();
        var source = new StaticSource();
        _refreshAhead = new SecretProvider(source, new SecretsCacheOptions { TtlJitter = 0 }, clock);
        _ = _refreshAhead.GetAsync(Key).AsTask().GetAwaiter().GetResult();
        source.Hold = true;
        clock.Advance(TimeSpan.FromMinutes(4.5));
        _ = _refreshAhead.GetAsync(Key).AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _provider.Dispose();
        _refreshAhead.Dispose();
        _memoryCache.Dispose();
        _gate.Dispose();
        _fusion.Dispose();
    }

    [Benchmark(Baseline = true, Description = "ConcurrentDictionary lookup (floor)")]
    public Secret Dictionary() => _dictionary.TryGetValue(Key, out var secret) ? secret : throw new InvalidOperationException();

    [Benchmark(Description = "SecretProvider.GetAsync hit")]
    public Secret ProviderHit()
    {
        var pending = _provider.GetAsync(Key);
        return pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Description = "SecretProvider.GetAsync hit in refresh-ahead window")]
    public Secret ProviderRefreshAheadHit()
    {
        var pending = _refreshAhead.GetAsync(Key);
        return pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Description = "HybridCache.GetOrCreateAsync hit")]
    public Secret HybridHit()
    {
        var pending = _hybrid.GetOrCreateAsync(Key, static _ => ValueTask.FromResult(new CachedSecret(new Secret("app/db-creds", "value"))));
        return pending.IsCompletedSuccessfully ? pending.Result.Secret : pending.AsTask().GetAwaiter().GetResult().Secret;
    }

    [Benchmark(Description = "FusionCache.GetOrSetAsync hit")]
    public Secret FusionHit()
    {
        var pending = _fusion.GetOrSetAsync<CachedSecret>(Key, static (_, _) => Task.FromResult(new CachedSecret(new Secret("app/db-creds", "value"))));
        return pending.IsCompletedSuccessfully ? pending.Result.Secret : pending.AsTask().GetAwaiter().GetResult().Secret;
    }

    [Benchmark(Description = "IMemoryCache.GetOrCreateAsync + SemaphoreSlim (by hand)")]
    public Secret MemoryCacheByHand() => MemoryCacheGetAsync().GetAwaiter().GetResult();

    private async Task<Secret> MemoryCacheGetAsync()
    {
        if (_memoryCache.TryGetValue(Key, out Secret? cached) && cached is not null)
        {
            return cached;
        }

        await _gate.WaitAsync();
        try
        {
            return (await _memoryCache.GetOrCreateAsync(Key, entry =>
            {
                entry.AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(5);
                return Task.FromResult(new Secret("app/db-creds", "value"));
            }))!;
        }
        finally
        {
            _gate.Release();
        }
    }
}
