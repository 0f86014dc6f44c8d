using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using SecretsCache.Caching;

namespace SecretsCache.Benchmarks;

/// <summary>
/// The size sweep (100, 10,000 and 100,000 entries read in one fixed random order, as in <see cref="SizeSweepBenchmarks"/>),
/// with what a hit costs piece by piece. Each contender adds one thing to the floor (a
/// <see cref="ConcurrentDictionary{TKey, TValue}"/> lookup that returns the value it finds without reading it): a clock read
/// (<see cref="Environment.TickCount64"/>, or the engine's own clock), a read of one field of the object found (one more cache
/// line per read once the cache outgrows the processor's caches), or the engine's clock and that field read together, the
/// least a TTL cache built on that dictionary must do per hit. The contenders take turns every 4,096 reads, so a shared
/// machine's noise falls on all of them alike, each on its own copies of the keys (so none reads memory another has just
/// brought into the processor's caches); the table gives each one's fastest tenth of 300 turns (a turn the scheduler interrupted is
/// slower, never faster). Each loop is a method of its own, compiled at its optimized tier before anything is kept.
/// BenchmarkDotNet runs one case after another, so a burst of other work lands on one case only; read the ratios from here.
/// </summary>
internal static class HitBreakdown
{
    private const int Batch = 4096;
    private const int Turns = 300;
    private static readonly EngineClock Clock = new(TimeProvider.System);

    public static void Run()
    {
        for (var i = 0; i < 3; i++)
        {
            Measure(100, turns: 60, print: false); // past the tiering thresholds of every loop
            Thread.Sleep(500);
        }

        Console.WriteLine("| entries | floor: lookup | + Environment.TickCount64 | + the engine's clock | + field read | + engine's clock + field read | SecretProvider hit | clock + slot in node |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var entries in new[] { 100, 10_000, 100_000 })
        {
            Measure(entries, Turns, print: true);
        }
    }

    private static void Measure(int entries, int turns, bool print)
    {
        const int Contenders = 7;
        var keys = Fixtures.Keys(entries);
        var permutation = Enumerable.Range(0, entries).ToArray();
        new Random(42).Shuffle(permutation);
        var secrets = keys.ToDictionary(k => k["sm:".Length..], k => new Secret(k["sm:".Length..], "value"), StringComparer.Ordinal);

        // Each contender has its own key strings, dictionary and order (the same permutation), so none finds in the
        // processor's caches what another has just read: after the others' turns, every contender starts as cold as the rest.
        var own = new string[Contenders][];
        var orders = new string[Contenders][];
        for (var c = 0; c < Contenders; c++)
        {
            own[c] = keys.Select(k => new string(k.AsSpan())).ToArray();
            orders[c] = permutation.Select(i => own[c][i]).ToArray();
        }

        var floors = Enumerable.Range(0, 3).Select(c => Fill(own[c], k => secrets[k["sm:".Length..]])).ToArray();
        var boxes = Enumerable.Range(3, 2).Select(c => Fill(own[c], k => new Box(secrets[k["sm:".Length..]]))).ToArray();
        var slots = Fill(own[6], k => new Slot(secrets[k["sm:".Length..]], long.MaxValue, new Box(secrets[k["sm:".Length..]])));
        using var provider = new SecretProvider(new PreparedSource(secrets), Fixtures.ProviderOptions(entries));
        foreach (var key in own[5])
        {
            _ = provider.GetAsync(key).AsTask().GetAwaiter().GetResult();
        }

        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        var times = new List<double>[Contenders];
        for (var c = 0; c < times.Length; c++)
        {
            times[c] = new List<double>(turns);
        }

        var at = new int[Contenders];
        for (var turn = 0; turn < turns; turn++)
        {
            times[0].Add(Time(Floor, floors[0], orders[0], ref at[0]));
            times[1].Add(Time(FloorAndClock, floors[1], orders[1], ref at[1]));
            times[2].Add(Time(FloorAndEngineClock, floors[2], orders[2], ref at[2]));
            times[3].Add(Time(FieldRead, boxes[0], orders[3], ref at[3]));
            times[4].Add(Time(EngineClockAndFieldRead, boxes[1], orders[4], ref at[4]));
            times[5].Add(Time(Hit, provider, orders[5], ref at[5]));
            times[6].Add(Time(EngineClockAndSlot, slots, orders[6], ref at[6]));
        }

        if (print)
        {
            var low = times.Select(Low).ToArray();
            var cells = string.Join(" | ", low.Skip(1).Select(t => string.Create(CultureInfo.InvariantCulture, $"{t:0.0} ns ({t / low[0]:0.00}×)")));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {entries:N0} | {low[0]:0.0} ns | {cells} |"));
        }
    }

    private static ConcurrentDictionary<string, T> Fill<T>(string[] keys, Func<string, T> value)
    {
        var dictionary = new ConcurrentDictionary<string, T>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            dictionary[key] = value(key);
        }

        return dictionary;
    }

    private static double Time<T>(Func<T, string[], int, int> loop, T cache, string[] order, ref int at)
    {
        var started = Stopwatch.GetTimestamp();
        at = loop(cache, order, at);
        return (Stopwatch.GetTimestamp() - started) * 1e9 / Stopwatch.Frequency / Batch;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Floor(ConcurrentDictionary<string, Secret> cache, string[] order, int at)
    {
        for (var i = 0; i < Batch; i++)
        {
            if (!cache.TryGetValue(order[at], out _))
            {
                throw new InvalidOperationException("miss");
            }

            at = at + 1 == order.Length ? 0 : at + 1;
        }

        return at;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int FloorAndClock(ConcurrentDictionary<string, Secret> cache, string[] order, int at)
    {
        for (var i = 0; i < Batch; i++)
        {
            if (!cache.TryGetValue(order[at], out _) || Environment.TickCount64 == long.MaxValue)
            {
                throw new InvalidOperationException("miss");
            }

            at = at + 1 == order.Length ? 0 : at + 1;
        }

        return at;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int FloorAndEngineClock(ConcurrentDictionary<string, Secret> cache, string[] order, int at)
    {
        for (var i = 0; i < Batch; i++)
        {
            if (!cache.TryGetValue(order[at], out _) || Clock.Now() == long.MaxValue)
            {
                throw new InvalidOperationException("miss");
            }

            at = at + 1 == order.Length ? 0 : at + 1;
        }

        return at;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int FieldRead(ConcurrentDictionary<string, Box> cache, string[] order, int at)
    {
        for (var i = 0; i < Batch; i++)
        {
            if (!cache.TryGetValue(order[at], out var box) || box.FreshUntil == 0)
            {
                throw new InvalidOperationException("miss");
            }

            at = at + 1 == order.Length ? 0 : at + 1;
        }

        return at;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int EngineClockAndFieldRead(ConcurrentDictionary<string, Box> cache, string[] order, int at)
    {
        for (var i = 0; i < Batch; i++)
        {
            if (!cache.TryGetValue(order[at], out var box) || Clock.Now() >= box.FreshUntil || box.Secret is null)
            {
                throw new InvalidOperationException("miss");
            }

            at = at + 1 == order.Length ? 0 : at + 1;
        }

        return at;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int EngineClockAndSlot(ConcurrentDictionary<string, Slot> cache, string[] order, int at)
    {
        for (var i = 0; i < Batch; i++)
        {
            if (!cache.TryGetValue(order[at], out var slot) || Clock.Now() >= slot.FreshUntil || slot.Secret is null)
            {
                throw new InvalidOperationException("miss");
            }

            at = at + 1 == order.Length ? 0 : at + 1;
        }

        return at;
    }

    private readonly record struct Slot(Secret? Secret, long FreshUntil, object Entry);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Hit(SecretProvider provider, string[] order, int at)
    {
        for (var i = 0; i < Batch; i++)
        {
            if (!IsHit(provider.GetAsync(order[at])))
            {
                throw new InvalidOperationException("miss");
            }

            at = at + 1 == order.Length ? 0 : at + 1;
        }

        return at;
    }

    private static bool IsHit(ValueTask<Secret> read) => read.IsCompletedSuccessfully;

    private static double Low(List<double> values)
    {
        values.Sort();
        return values[values.Count / 10];
    }

    /// <summary>An entry with the two fields a hit needs, sized like the provider's entry.</summary>
    private sealed class Box(Secret secret)
    {
#pragma warning disable CS0169, CA1823 // padding, never read
        private readonly object? _a, _b, _c, _d, _e, _f, _g;
        private readonly long _h;
#pragma warning restore CS0169, CA1823

        public Secret? Secret { get; } = secret;

        public long FreshUntil { get; } = long.MaxValue;
    }

}
