using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace SecretsCache.Benchmarks;

/// <summary>
/// The size sweep again (100, 10,000 and 100,000 entries, one fixed random order), measured so that a shared machine's
/// noise falls on every contender alike: they take turns every 4,096 reads, 300 turns each. The table gives each one's
/// fastest tenth (10th percentile of the turns): a turn the scheduler interrupted is slower, never faster, so the low
/// percentile is the cost of the reads themselves, and the same for every contender.
/// BenchmarkDotNet runs one case after another, so a burst of other work lands on one case only; this runner is the one
/// to read the ratios from. Three contenders: the floor (a <see cref="ConcurrentDictionary{TKey, TValue}"/> lookup), the
/// provider's hit, and the least any TTL cache built on that dictionary must do per hit: the lookup, one clock read
/// (<see cref="Environment.TickCount64"/>, the engine's clock) and one field read of the entry found.
/// </summary>
internal static class InterleavedSweep
{
    private const int Batch = 4096;
    private const int Turns = 300;

    public static void Run()
    {
        Measure(100, print: false); // warm-up: every method reaches its optimized tier before anything is kept
        Thread.Sleep(1000);
        Console.WriteLine("| entries | ConcurrentDictionary lookup (floor) | lookup + clock read + field read | SecretProvider.GetAsync hit | hit ÷ floor |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        foreach (var entries in new[] { 100, 10_000, 100_000 })
        {
            Measure(entries, print: true);
        }
    }

    private static void Measure(int entries, bool print)
    {
        var keys = Fixtures.Keys(entries);
        var order = Fixtures.Shuffled(keys);
        var secrets = keys.ToDictionary(k => k["sm:".Length..], k => new Secret(k["sm:".Length..], "value"), StringComparer.Ordinal);
        var dictionary = new ConcurrentDictionary<string, Secret>(StringComparer.Ordinal);
        var entriesOnly = new ConcurrentDictionary<string, Box>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            dictionary[key] = secrets[key["sm:".Length..]];
            entriesOnly[key] = new Box(secrets[key["sm:".Length..]]);
        }

        using var provider = new SecretProvider(new PreparedSource(secrets), Fixtures.ProviderOptions(entries));
        foreach (var key in keys)
        {
            _ = provider.GetAsync(key).AsTask().GetAwaiter().GetResult();
        }

        // As a long-running process's heap is after a full collection: survivors packed, the setup's garbage gone.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        var floor = new List<double>(Turns);
        var minimal = new List<double>(Turns);
        var ours = new List<double>(Turns);
        int a = 0, b = 0, c = 0;
        for (var turn = 0; turn < Turns; turn++)
        {
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < Batch; i++)
            {
                if (!dictionary.TryGetValue(order[a], out _))
                {
                    throw new InvalidOperationException("miss");
                }

                a = a + 1 == order.Length ? 0 : a + 1;
            }

            floor.Add(PerRead(started));
            started = Stopwatch.GetTimestamp();
            for (var i = 0; i < Batch; i++)
            {
                if (!entriesOnly.TryGetValue(order[b], out var box) || Environment.TickCount64 >= box.FreshUntil || box.Secret is null)
                {
                    throw new InvalidOperationException("miss");
                }

                b = b + 1 == order.Length ? 0 : b + 1;
            }

            minimal.Add(PerRead(started));
            started = Stopwatch.GetTimestamp();
            for (var i = 0; i < Batch; i++)
            {
                if (!IsHit(provider.GetAsync(order[c])))
                {
                    throw new InvalidOperationException("miss");
                }

                c = c + 1 == order.Length ? 0 : c + 1;
            }

            ours.Add(PerRead(started));
        }

        if (print)
        {
            var (f, m, o) = (Low(floor), Low(minimal), Low(ours));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {entries:N0} | {f:0.0} ns | {m:0.0} ns ({m / f:0.00}×) | {o:0.0} ns | **{o / f:0.00}×** |"));
        }
    }

    private static bool IsHit(ValueTask<Secret> read) => read.IsCompletedSuccessfully;

    private static double PerRead(long started) => (Stopwatch.GetTimestamp() - started) * 1e9 / Stopwatch.Frequency / Batch;

    private static double Low(List<double> values)
    {
        values.Sort();
        return values[values.Count / 10];
    }

    /// <summary>An entry with the two fields a hit needs, sized like the provider's entry (96 bytes).</summary>
    private sealed class Box(Secret secret)
    {
#pragma warning disable CS0169, CA1823 // padding, never read: the hit's fields sit where the provider's do
        private readonly object? _a, _b, _c, _d, _e, _f, _g;
        private readonly long _h;
#pragma warning restore CS0169, CA1823

        public Secret? Secret { get; } = secret;

        public long FreshUntil { get; } = long.MaxValue;
    }
}
