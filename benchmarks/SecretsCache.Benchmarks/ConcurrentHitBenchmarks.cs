using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Caching.Memory;

namespace SecretsCache.Benchmarks;

/// <summary>Hits with every core hammering: one hot key, and 1,000 keys spread over the threads. Figures are per read.</summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class ConcurrentHitBenchmarks
{
    private const int ReadsPerThread = 20_000;
    private static readonly int Threads = Environment.ProcessorCount;
    private readonly ConcurrentDictionary<string, Secret> _dictionary = new(StringComparer.Ordinal);
    private readonly MemoryCache _memoryCache = new(new MemoryCacheOptions());
    private SecretProvider _provider = null!;
    private string[] _keys = [];

    [Params(1, 1000)]
    public int Keys { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _keys = Enumerable.Range(0, Keys).Select(i => $"sm:app/secret-{i}").ToArray();
        _provider = new SecretProvider(new StaticSource(), new SecretsCacheOptions());
        foreach (var key in _keys)
        {
            var secret = new Secret(key, "value");
            _dictionary[key] = secret;
            _memoryCache.Set(key, secret, TimeSpan.FromMinutes(5));
            _ = _provider.GetAsync(key).AsTask().GetAwaiter().GetResult();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _provider.Dispose();
        _memoryCache.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = ReadsPerThread, Description = "ConcurrentDictionary, all cores")]
    public void Dictionary() => Run(key => _dictionary.TryGetValue(key, out var s) ? s : null);

    [Benchmark(OperationsPerInvoke = ReadsPerThread, Description = "SecretProvider hit, all cores")]
    public void Provider() => Run(key =>
    {
        var pending = _provider.GetAsync(key);
        return pending.IsCompletedSuccessfully ? pending.Result : null;
    });

    [Benchmark(OperationsPerInvoke = ReadsPerThread, Description = "IMemoryCache.TryGetValue, all cores")]
    public void MemoryCache() => Run(key => _memoryCache.TryGetValue(key, out Secret? s) ? s : null);

    // Each thread reads ReadsPerThread times; the figure is wall time per read per thread (lower is better, contention shows).
    private void Run(Func<string, Secret?> read) =>
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, thread =>
        {
            var keys = _keys;
            for (var i = 0; i < ReadsPerThread; i++)
            {
                if (read(keys[(i + thread) % keys.Length]) is null)
                {
                    throw new InvalidOperationException("miss");
                }
            }
        });
}
