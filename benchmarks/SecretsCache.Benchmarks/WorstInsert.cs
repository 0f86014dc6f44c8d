using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace SecretsCache.Benchmarks;

/// <summary>
/// The worst single insert into a cache of 100,000 entries: every read of a new key is timed on its own, so a caller that pays
/// for eviction shows as a stall. Three caches take the same inserts in turn (interleaved, so the machine's noise falls on
/// all three alike): a <see cref="ConcurrentDictionary{TKey, TValue}"/> that removes one key per key it adds (the floor), a
/// provider whose bound is far away (the same work without eviction), and a provider at its bound of 100,000 (every insert
/// evicts). Inserts during which the garbage collector paused the process are counted apart: their time is the collector's.
/// Each insert is timed twice: by the wall clock (what the caller waited, including any time the shared machine's scheduler
/// gave its core to another process) and by the thread's CPU clock (the work the insert itself did, which a stall in
/// eviction would show and preemption does not).
/// </summary>
internal static class WorstInsert
{
    private const int Size = 100_000;
    private const int Inserts = 100_000; // past the bound: the whole cache is replaced once

    public static void Run()
    {
        var keys = Fixtures.Keys(Size + Inserts);
        var secrets = keys.ToDictionary(k => k["sm:".Length..], k => new Secret(k["sm:".Length..], "value"), StringComparer.Ordinal);
        var bySecret = keys.Select(k => secrets[k["sm:".Length..]]).ToArray();

        var dictionary = new ConcurrentDictionary<string, Secret>(StringComparer.Ordinal);
        using var unbounded = new SecretProvider(new PreparedSource(secrets), Fixtures.ProviderOptions(3 * Size));
        using var bounded = new SecretProvider(new PreparedSource(secrets), Fixtures.ProviderOptions(Size));
        for (var i = 0; i < Size; i++)
        {
            dictionary[keys[i]] = bySecret[i];
            Read(unbounded, keys[i]);
            Read(bounded, keys[i]);
        }

        // Every code path evicts once before the timing, so the first eviction's JIT compilation is not counted as a stall.
        using (var warm = new SecretProvider(new PreparedSource(secrets), Fixtures.ProviderOptions(10)))
        {
            for (var i = 0; i < 100; i++)
            {
                Read(warm, keys[i]);
            }
        }

        var timers = new[] { new Timings(), new Timings(), new Timings() };
        for (var i = Size; i < Size + Inserts; i++)
        {
            var index = i;
            timers[0].Time(() =>
            {
                dictionary.TryRemove(keys[index - Size], out _);
                dictionary[keys[index]] = bySecret[index];
            }, dictionary.Count);
            timers[1].Time(() => Read(unbounded, keys[index]), unbounded.Count);
            timers[2].Time(() => Read(bounded, keys[index]), bounded.Count);
        }

        Console.WriteLine($"{Inserts:N0} reads of new keys into caches of {Size:N0} entries, each timed alone; \"GC\": the collector paused the process during it");
        Console.WriteLine();
        Console.WriteLine("| what | median | p99.9 | worst, no GC | over 1 ms, no GC | worst CPU time, no GC | over 1 ms of CPU | worst with a GC pause | most entries seen |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        timers[0].Row("ConcurrentDictionary, remove one + add one (floor)");
        timers[1].Row("SecretProvider, bound not reached (no eviction)");
        timers[2].Row($"SecretProvider at MaxEntries = {Size:N0} (each insert evicts)");
    }

    private static void Read(SecretProvider provider, string key) => _ = provider.GetAsync(key).AsTask().GetAwaiter().GetResult();

    private const int ThreadCpuClock = 3; // CLOCK_THREAD_CPUTIME_ID

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    private static long CpuNanoseconds() => ClockGetTime(ThreadCpuClock, out var t) == 0 ? (t.Seconds * 1_000_000_000) + t.Nanoseconds : 0;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    private sealed class Timings
    {
        private readonly List<long> _clean = new(Inserts);
        private long _worstCpu;
        private int _overCpu;
        private long _worstWithGc;
        private int _most;

        public void Time(Action insert, int countBefore)
        {
            var paused = GC.GetTotalPauseDuration();
            var cpu = CpuNanoseconds();
            var started = Stopwatch.GetTimestamp();
            insert();
            var took = Stopwatch.GetTimestamp() - started;
            cpu = CpuNanoseconds() - cpu;
            if (GC.GetTotalPauseDuration() != paused)
            {
                _worstWithGc = Math.Max(_worstWithGc, took);
            }
            else
            {
                _clean.Add(took);
                _worstCpu = Math.Max(_worstCpu, cpu);
                _overCpu += cpu > 1_000_000 ? 1 : 0;
            }

            _most = Math.Max(_most, countBefore);
        }

        public void Row(string what)
        {
            _clean.Sort();
            var over = _clean.Count(t => t > Stopwatch.Frequency / 1000);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {what} | {Us(_clean[_clean.Count / 2])} | {Us(_clean[(int)(_clean.Count * 0.999)])} | {Us(_clean[^1])} | {over} | {_worstCpu / 1e3:0.#} µs | {_overCpu} | {Us(_worstWithGc)} | {_most:N0} |"));
        }

        private static string Us(long ticks) => string.Create(CultureInfo.InvariantCulture, $"{ticks * 1e6 / Stopwatch.Frequency:0.#} µs");
    }
}
