using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace SecretsCache.Benchmarks;

/// <summary>
/// The worst single insert into a full cache (MaxEntries = 100,000): every insert of a new key is timed on its own, so a
/// caller that pays for eviction shows as a stall. Inserts during which a garbage collection ran are counted apart, since
/// their time is the collector's. The baseline, in the same run, is a <see cref="ConcurrentDictionary{TKey, TValue}"/> of
/// the same size that removes one key for each one it adds.
/// </summary>
internal static class WorstInsert
{
    private const int Bound = 100_000;
    private const int Inserts = 100_000; // past the bound: ten times the 10% that one eviction pass frees

    public static void Run()
    {
        var keys = Fixtures.Keys(Bound + Inserts);
        var secrets = keys.ToDictionary(k => k["sm:".Length..], k => new Secret(k["sm:".Length..], "value"), StringComparer.Ordinal);
        var bySecret = keys.Select(k => secrets[k["sm:".Length..]]).ToArray();

        var dictionary = new ConcurrentDictionary<string, Secret>(StringComparer.Ordinal);
        for (var i = 0; i < Bound; i++)
        {
            dictionary[keys[i]] = bySecret[i];
        }

        var floor = Time(i =>
        {
            dictionary.TryRemove(keys[i - Bound], out _);
            dictionary[keys[i]] = bySecret[i];
        }, () => dictionary.Count);

        using var provider = new SecretProvider(new PreparedSource(secrets), Fixtures.ProviderOptions(Bound));
        for (var i = 0; i < Bound; i++)
        {
            _ = provider.GetAsync(keys[i]).AsTask().GetAwaiter().GetResult();
        }

        var ours = Time(i => _ = provider.GetAsync(keys[i]).AsTask().GetAwaiter().GetResult(), () => provider.Count);

        Console.WriteLine($"{Inserts:N0} inserts of new keys into a full cache of {Bound:N0} (each timed alone; GC = a collection ran during it)");
        Console.WriteLine();
        Console.WriteLine("| what | median | p99.9 | worst without GC | worst with GC | inserts over 1 ms without GC | most entries seen |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        Row("ConcurrentDictionary, remove one + add one (baseline)", floor);
        Row("SecretProvider.GetAsync of a new key (insert + eviction)", ours);
    }

    private static Result Time(Action<int> insert, Func<int> count)
    {
        var clean = new List<long>(Inserts);
        long worstWithGc = 0;
        var over = 0;
        var most = 0;
        for (var i = Bound; i < Bound + Inserts; i++)
        {
            var collections = GC.CollectionCount(0);
            var started = Stopwatch.GetTimestamp();
            insert(i);
            var took = Stopwatch.GetTimestamp() - started;
            if (GC.CollectionCount(0) != collections)
            {
                worstWithGc = Math.Max(worstWithGc, took);
            }
            else
            {
                clean.Add(took);
                over += took > Stopwatch.Frequency / 1000 ? 1 : 0;
            }

            most = Math.Max(most, count());
        }

        clean.Sort();
        return new Result(clean[clean.Count / 2], clean[(int)(clean.Count * 0.999)], clean[^1], worstWithGc, over, most);
    }

    private static void Row(string what, Result r) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {what} | {Us(r.Median)} | {Us(r.P999)} | {Us(r.Worst)} | {Us(r.WorstWithGc)} | {r.Over} | {r.Most:N0} |"));

    private static string Us(long ticks) => string.Create(CultureInfo.InvariantCulture, $"{ticks * 1e6 / Stopwatch.Frequency:0.#} µs");

    private sealed record Result(long Median, long P999, long Worst, long WorstWithGc, int Over, int Most);
}
