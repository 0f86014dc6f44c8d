using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime;
using System.Runtime.InteropServices;
using SecretsCache.Caching;

namespace SecretsCache.Benchmarks;

/// <summary>
/// The worst single insert into a cache of 100,000 entries: every read of a new key is timed on its own, so a caller that pays
/// for eviction shows as a stall. Three caches take the same inserts in turn (interleaved, so the machine's noise falls on
/// all three alike): a <see cref="ConcurrentDictionary{TKey, TValue}"/> that removes one key per key it adds (the floor), a
/// provider whose bound is far away (the same work without eviction), and a provider at its bound of 100,000 (every insert
/// evicts). Inserts during which the garbage collector paused the process are counted apart: their time is the collector's.
/// Each insert is timed twice: by the wall clock (what the caller waited, including any time the shared machine's scheduler
/// gave its core to another process) and by the thread's CPU clock (the work the insert itself did, which a stall in
/// eviction would show and preemption does not). The five worst inserts by CPU time and by wall time (without a GC pause) of each cache are listed with what
/// happened during each: collections, methods compiled on the calling thread (JIT), bytes allocated, lock contention, a
/// resize of the dictionary (its bucket count before and after), and from <c>getrusage(RUSAGE_THREAD)</c> page faults, time in
/// the kernel and involuntary context switches, so a stall is attributed from evidence.
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

        var timers = new[] { new Timings(() => Buckets(dictionary)), new Timings(() => Buckets(Index(unbounded))), new Timings(() => Buckets(Index(bounded))) };
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
        Console.WriteLine("| what | median | p99.9 | worst, no GC | over 1 ms, no GC | worst CPU time, no GC | over 1 ms of CPU | worst with a GC pause | most entries seen | worst CPU time of an undisturbed insert (no GC, page fault, kernel time or preemption) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        timers[0].Row("ConcurrentDictionary, remove one + add one (floor)");
        timers[1].Row("SecretProvider, bound not reached (no eviction)");
        timers[2].Row($"SecretProvider at MaxEntries = {Size:N0} (each insert evicts)");
        Console.WriteLine();
        Console.WriteLine("The five worst inserts by CPU time, then by wall time, without a GC pause, each cache, and what happened during each (with workstation GC a");
        Console.WriteLine("collection runs on the thread whose allocation triggered it, so an insert with a pause counts the collector's CPU time):");
        Console.WriteLine();
        Console.WriteLine("| what | insert # | CPU time | wall time | GC pause | collections (gen0/1/2) | methods JIT-compiled on this thread | JIT time, this thread | allocated | lock contentions | dictionary buckets before → after | page faults (minor/major) | kernel time | preempted |");
        Console.WriteLine("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---|---|---:|---:|");
        foreach (var byWall in new[] { false, true })
        {
            timers[0].Worst("ConcurrentDictionary (floor)" + (byWall ? ", by wall time" : ""), byWall);
            timers[1].Worst("SecretProvider, no eviction" + (byWall ? ", by wall time" : ""), byWall);
            timers[2].Worst("SecretProvider, evicting" + (byWall ? ", by wall time" : ""), byWall);
        }
    }

    private static ConcurrentDictionary<string, CacheEntry> Index(SecretProvider provider) =>
        (ConcurrentDictionary<string, CacheEntry>)typeof(CacheEngine).GetField("_entries", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(provider.Engine)!;

    /// <summary>The bucket count of a dictionary's current table (private state, read by reflection, outside any timing).</summary>
    private static int Buckets<TValue>(ConcurrentDictionary<string, TValue> dictionary)
    {
        var tables = typeof(ConcurrentDictionary<string, TValue>).GetField("_tables", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(dictionary)!;
        return ((Array)tables.GetType().GetField("_buckets", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(tables)!).Length;
    }

    private static void Read(SecretProvider provider, string key) => _ = provider.GetAsync(key).AsTask().GetAwaiter().GetResult();

    private const int ThreadCpuClock = 3; // CLOCK_THREAD_CPUTIME_ID

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    private static long CpuNanoseconds() => ClockGetTime(ThreadCpuClock, out var t) == 0 ? (t.Seconds * 1_000_000_000) + t.Nanoseconds : 0;

    private const int ThreadUsage = 1; // RUSAGE_THREAD

    [DllImport("libc", EntryPoint = "getrusage")]
    private static extern int GetResourceUsage(int who, out ResourceUsage usage);

    private static (long MinorFaults, long MajorFaults, long Preempted, long SystemMicroseconds) Usage() =>
        GetResourceUsage(ThreadUsage, out var u) == 0 ? (u.MinorFaults, u.MajorFaults, u.InvoluntarySwitches, (u.SystemSeconds * 1_000_000) + u.SystemMicroseconds) : default;

    /// <summary>struct rusage of Linux x86-64/arm64: two timevals, then fourteen longs.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct ResourceUsage
    {
        public long UserSeconds, UserMicroseconds, SystemSeconds, SystemMicroseconds;
        public long MaxResident, SharedText, UnsharedData, UnsharedStack, MinorFaults, MajorFaults, Swaps, BlocksIn, BlocksOut, MessagesSent, MessagesReceived, Signals, VoluntarySwitches, InvoluntarySwitches;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    private readonly record struct Insert(int Number, long CpuNs, long WallTicks, TimeSpan Pause, int Gen0, int Gen1, int Gen2, long Compiled, TimeSpan JitTime, long Allocated, long Contentions, int BucketsBefore, int BucketsAfter, long MinorFaults, long MajorFaults, long Preempted, long KernelMicroseconds);

    private sealed class Timings(Func<int> buckets)
    {
        private readonly List<long> _clean = new(Inserts);
        private readonly List<Insert> _worst = new(6);
        private readonly List<Insert> _worstWall = new(6);
        private int _count;
        private long _worstQuiet;
        private int _quiet;
        private long _worstCpu;
        private int _overCpu;
        private long _worstWithGc;
        private int _most;

        public void Time(Action insert, int countBefore)
        {
            var bucketsBefore = buckets();
            var (gen0, gen1, gen2) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
            var (compiled, jitTime) = (JitInfo.GetCompiledMethodCount(currentThread: true), JitInfo.GetCompilationTime(currentThread: true));
            var (allocated, contentions) = (GC.GetAllocatedBytesForCurrentThread(), Monitor.LockContentionCount);
            var paused = GC.GetTotalPauseDuration();
            var usage = Usage();
            var cpu = CpuNanoseconds();
            var started = Stopwatch.GetTimestamp();
            insert();
            var took = Stopwatch.GetTimestamp() - started;
            cpu = CpuNanoseconds() - cpu;
            var after = Usage();
            var record = new Insert(_count++, cpu, took, GC.GetTotalPauseDuration() - paused,
                GC.CollectionCount(0) - gen0, GC.CollectionCount(1) - gen1, GC.CollectionCount(2) - gen2,
                JitInfo.GetCompiledMethodCount(currentThread: true) - compiled, JitInfo.GetCompilationTime(currentThread: true) - jitTime,
                GC.GetAllocatedBytesForCurrentThread() - allocated, Monitor.LockContentionCount - contentions, bucketsBefore, buckets(),
                after.MinorFaults - usage.MinorFaults, after.MajorFaults - usage.MajorFaults, after.Preempted - usage.Preempted, after.SystemMicroseconds - usage.SystemMicroseconds);
            if (record.Pause == TimeSpan.Zero && record.Preempted == 0 && record.KernelMicroseconds == 0 && record.MinorFaults == 0 && record.MajorFaults == 0)
            {
                _worstQuiet = Math.Max(_worstQuiet, cpu);
                _quiet++;
            }

            if (record.Pause == TimeSpan.Zero)
            {
                Keep(_worst, record, r => r.CpuNs);
                Keep(_worstWall, record, r => r.WallTicks);
            }

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
                $"| {what} | {Us(_clean[_clean.Count / 2])} | {Us(_clean[(int)(_clean.Count * 0.999)])} | {Us(_clean[^1])} | {over} | {_worstCpu / 1e3:0.#} µs | {_overCpu} | {Us(_worstWithGc)} | {_most:N0} | {_worstQuiet / 1e3:0.#} µs ({_quiet:N0} such inserts) |"));
        }

        private static void Keep(List<Insert> worst, Insert record, Func<Insert, long> by)
        {
            if (worst.Count < 5 || by(record) > by(worst[^1]))
            {
                worst.Add(record);
                worst.Sort((a, b) => by(b).CompareTo(by(a)));
                if (worst.Count > 5)
                {
                    worst.RemoveAt(5);
                }
            }
        }

        public void Worst(string what, bool byWall)
        {
            foreach (var w in byWall ? _worstWall : _worst)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {what} | {w.Number:N0} | {w.CpuNs / 1e3:0.#} µs | {Us(w.WallTicks)} | {w.Pause.TotalMicroseconds:0.#} µs | {w.Gen0}/{w.Gen1}/{w.Gen2} | {w.Compiled} | {w.JitTime.TotalMicroseconds:0.#} µs | {w.Allocated:N0} B | {w.Contentions} | {w.BucketsBefore:N0} → {w.BucketsAfter:N0} | {w.MinorFaults}/{w.MajorFaults} | {w.KernelMicroseconds} µs | {w.Preempted} |"));
            }
        }

        private static string Us(long ticks) => string.Create(CultureInfo.InvariantCulture, $"{ticks * 1e6 / Stopwatch.Frequency:0.#} µs");
    }
}
