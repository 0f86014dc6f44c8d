using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Caching.Hybrid;
using ZiggyCreatures.Caching.Fusion;

namespace SecretsCache.Benchmarks;

/// <summary>
/// Managed memory kept per cached entry: the <see cref="GC.GetTotalMemory(bool)"/> delta (after full, compacting
/// collections) of filling an empty cache with N entries, divided by N. The secrets exist before the measurement (the source
/// owns them), so every cache holds the very same objects and the figure is what the cache adds. Two ways with the keys:
/// "fresh" keys are made while filling and kept only by the cache (a reference read from configuration), "shared" keys
/// exist before and are kept by the application anyway. The baseline, in the same run and the same mode, is a
/// <see cref="ConcurrentDictionary{TKey, TValue}"/> holding the same secrets under the same keys.
/// </summary>
internal static class MemoryPerEntry
{
    public static void Run(int[] sizes)
    {
        Console.WriteLine("| entries | keys | what | bytes per entry | × ConcurrentDictionary |");
        Console.WriteLine("|---:|---|---|---:|---:|");
        foreach (var count in sizes)
        {
            var names = Enumerable.Range(0, count).Select(i => $"app/secret-{i}").ToArray();
            var secrets = names.ToDictionary(n => n, n => new Secret(n, "value"), StringComparer.Ordinal);
            var bySecret = names.Select(n => secrets[n]).ToArray();
            foreach (var fresh in new[] { true, false })
            {
                var canonical = Keys(names, "sm:", fresh);
                var plain = Keys(names, "", fresh);
                var mode = fresh ? "fresh" : "shared";
                var floor = Measure(
                    () => new ConcurrentDictionary<string, Secret>(StringComparer.Ordinal),
                    d =>
                    {
                        for (var i = 0; i < count; i++)
                        {
                            d[canonical(i)] = bySecret[i];
                        }
                    }) / (double)count;
                Row(count, mode, "ConcurrentDictionary<string, Secret> (baseline)", floor, floor);

                var options = Fixtures.ProviderOptions(count * 2);
                Row(count, mode, "SecretProvider, plain names (`app/secret-1`, as the docs write them: the key)", PerEntry(count, () => new SecretProvider(new PreparedSource(secrets), options), p => Fill(p, count, plain)), floor);
                Row(count, mode, "SecretProvider, prefixed names (`sm:app/secret-1`: the key)", PerEntry(count, () => new SecretProvider(new PreparedSource(secrets), options), p => Fill(p, count, canonical)), floor);
                Row(count, mode, "SecretProvider, both spellings of each (key + alias)", PerEntry(count, () => new SecretProvider(new PreparedSource(secrets), options), p =>
                {
                    Fill(p, count, plain);
                    Fill(p, count, canonical);
                }), floor);
                Row(count, mode, "HybridCache (in memory only)", PerEntry(count, Fixtures.Hybrid, h => FillHybrid(h, count, canonical, bySecret)), floor);
                Row(count, mode, "FusionCache (in memory only)", PerEntry(count, Fixtures.Fusion, f => FillFusion(f, count, canonical, bySecret)), floor);
            }
        }
    }

    // Fresh: a new string per call, made inside the measured fill. Shared: made here, before the measurement.
    private static Func<int, string> Keys(string[] names, string prefix, bool fresh)
    {
        if (fresh)
        {
            return i => new string((prefix + names[i]).AsSpan()); // a new string even when the prefix is empty
        }

        var made = names.Select(n => prefix + n).ToArray();
        return i => made[i];
    }

    private static void Row(int count, string mode, string what, double bytes, double floor) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {count:N0} | {mode} | {what} | {bytes:0} | {bytes / floor:0.00} |"));

    private static double PerEntry<T>(int count, Func<T> create, Action<T> fill) => Measure(create, fill) / (double)count;

    // The container is made (and its fixed cost paid) before the first reading; only filling it is measured.
    private static long Measure<T>(Func<T> create, Action<T> fill)
    {
        var container = create();
        var before = Settle();
        fill(container);
        var after = Settle();
        GC.KeepAlive(container);
        (container as IDisposable)?.Dispose();
        return after - before;
    }

    private static long Settle()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static void Fill(SecretProvider provider, int count, Func<int, string> key)
    {
        for (var i = 0; i < count; i++)
        {
            _ = provider.GetAsync(key(i)).AsTask().GetAwaiter().GetResult();
        }
    }

    private static void FillHybrid(HybridCache cache, int count, Func<int, string> key, Secret[] secrets)
    {
        for (var i = 0; i < count; i++)
        {
            _ = cache.GetOrCreateAsync(key(i), secrets[i], static (s, _) => ValueTask.FromResult(new CachedSecret(s))).AsTask().GetAwaiter().GetResult();
        }
    }

    private static void FillFusion(FusionCache cache, int count, Func<int, string> key, Secret[] secrets)
    {
        for (var i = 0; i < count; i++)
        {
            var secret = secrets[i];
            _ = cache.GetOrSet(key(i), _ => new CachedSecret(secret));
        }
    }
}
