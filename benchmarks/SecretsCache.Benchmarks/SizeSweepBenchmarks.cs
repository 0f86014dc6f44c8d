using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Caching.Hybrid;
using ZiggyCreatures.Caching.Fusion;

namespace SecretsCache.Benchmarks;

/// <summary>
/// A hit as the cache grows: 100, 10,000 and 100,000 entries read in one fixed random order, one thread. The floor is a
/// <see cref="ConcurrentDictionary{TKey, TValue}"/> holding the same secrets under the same key strings, read with the same
/// keys in the same order, so both pay the same cache misses for the keys themselves. Figures are per read.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 7)]
[IterationTime(250)]
public class SizeSweepBenchmarks
{
    private const int Reads = 1024;
    private ConcurrentDictionary<string, Secret> _dictionary = null!;
    private SecretProvider _provider = null!;
    private HybridCache _hybrid = null!;
    private FusionCache _fusion = null!;
    private string[] _order = [];
    private int _cursor;

    [Params(100, 10_000, 100_000)]
    public int Entries { get; set; }

    [GlobalSetup(Target = nameof(Dictionary))]
    public void SetupDictionary()
    {
        var (keys, secrets) = Prepare();
        _dictionary = new ConcurrentDictionary<string, Secret>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            _dictionary[key] = secrets[key["sm:".Length..]];
        }
    }

    [GlobalSetup(Target = nameof(Provider))]
    public void SetupProvider()
    {
        var (keys, secrets) = Prepare();
        _provider = new SecretProvider(new PreparedSource(secrets), Fixtures.ProviderOptions(Entries));
        foreach (var key in keys)
        {
            _ = _provider.GetAsync(key).AsTask().GetAwaiter().GetResult();
        }
    }

    [GlobalSetup(Target = nameof(Hybrid))]
    public void SetupHybrid()
    {
        var (keys, secrets) = Prepare();
        _hybrid = Fixtures.Hybrid();
        foreach (var key in keys)
        {
            _ = _hybrid.GetOrCreateAsync(key, secrets[key["sm:".Length..]], static (s, _) => ValueTask.FromResult(new CachedSecret(s))).AsTask().GetAwaiter().GetResult();
        }
    }

    [GlobalSetup(Target = nameof(Fusion))]
    public void SetupFusion()
    {
        var (keys, secrets) = Prepare();
        _fusion = Fixtures.Fusion();
        foreach (var key in keys)
        {
            var secret = secrets[key["sm:".Length..]];
            _ = _fusion.GetOrSet(key, _ => new CachedSecret(secret));
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _provider?.Dispose();
        _fusion?.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Reads, Description = "ConcurrentDictionary lookup (floor)")]
    public Secret? Dictionary()
    {
        Secret? last = null;
        var order = _order;
        var at = _cursor;
        for (var i = 0; i < Reads; i++)
        {
            last = _dictionary.TryGetValue(order[at], out var secret) ? secret : throw new InvalidOperationException("miss");
            at = at + 1 == order.Length ? 0 : at + 1;
        }

        _cursor = at;
        return last;
    }

    [Benchmark(OperationsPerInvoke = Reads, Description = "SecretProvider.GetAsync hit")]
    public Secret? Provider()
    {
        Secret? last = null;
        var order = _order;
        var at = _cursor;
        for (var i = 0; i < Reads; i++)
        {
            var pending = _provider.GetAsync(order[at]);
            last = pending.IsCompletedSuccessfully ? pending.Result : throw new InvalidOperationException("miss");
            at = at + 1 == order.Length ? 0 : at + 1;
        }

        _cursor = at;
        return last;
    }

    [Benchmark(OperationsPerInvoke = Reads, Description = "HybridCache.GetOrCreateAsync hit")]
    public Secret? Hybrid()
    {
        Secret? last = null;
        var order = _order;
        var at = _cursor;
        for (var i = 0; i < Reads; i++)
        {
            var pending = _hybrid.GetOrCreateAsync(order[at], static _ => ValueTask.FromResult(new CachedSecret(new Secret("app/x", "never"))));
            last = pending.IsCompletedSuccessfully ? pending.Result.Secret : throw new InvalidOperationException("miss");
            at = at + 1 == order.Length ? 0 : at + 1;
        }

        _cursor = at;
        return last;
    }

    [Benchmark(OperationsPerInvoke = Reads, Description = "FusionCache.GetOrSetAsync hit")]
    public Secret? Fusion()
    {
        Secret? last = null;
        var order = _order;
        var at = _cursor;
        for (var i = 0; i < Reads; i++)
        {
            var pending = _fusion.GetOrSetAsync<CachedSecret>(order[at], static (_, _) => Task.FromResult(new CachedSecret(new Secret("app/x", "never"))));
            last = pending.IsCompletedSuccessfully ? pending.Result.Secret : throw new InvalidOperationException("miss");
            at = at + 1 == order.Length ? 0 : at + 1;
        }

        _cursor = at;
        return last;
    }

    private (string[] Keys, Dictionary<string, Secret> Secrets) Prepare()
    {
        var keys = Fixtures.Keys(Entries);
        _order = Fixtures.Shuffled(keys);
        _cursor = 0;
        return (keys, keys.ToDictionary(k => k["sm:".Length..], k => new Secret(k["sm:".Length..], "value"), StringComparer.Ordinal));
    }
}
