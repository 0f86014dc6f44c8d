using System.Runtime.InteropServices;

namespace SecretsCache.Caching;

/// <summary>
/// The engine's monotonic timestamps for expiry, refresh-ahead, staleness and backoff, in milliseconds with
/// <see cref="TimeProvider.System"/>; any other provider (a test clock) is read as is. Every hit reads it, so with the system
/// clock it is the cheapest monotonic clock of millisecond precision: on Linux the kernel's coarse clock
/// (<see cref="CoarseClock"/>), elsewhere <see cref="Environment.TickCount64"/>. Durations for metrics are measured with the
/// provider's precise timestamps instead.
/// </summary>
internal sealed class EngineClock(TimeProvider time)
{
    private readonly TimeProvider? _custom = ReferenceEquals(time, TimeProvider.System) ? null : time;

    public long Frequency => _custom is null ? 1000 : time.TimestampFrequency;

    public long Now() => _custom is null ? SystemMilliseconds() : _custom.GetTimestamp();

    private static long SystemMilliseconds() => CoarseClock.IsAvailable ? CoarseClock.Milliseconds() : Environment.TickCount64;
}

/// <summary>
/// <c>clock_gettime(CLOCK_MONOTONIC_COARSE)</c>, read from libc without a GC transition. On Linux
/// <see cref="Environment.TickCount64"/> reaches the same kind of clock through the runtime's native shim, and that call
/// costs a hit about half of a dictionary lookup more once the cache outgrows the processor's caches (measured:
/// <c>--hit-breakdown</c> in benchmarks/SecretsCache.Benchmarks, docs/benchmarks.md). Used only when the call works and
/// ticks at least every 10 ms; otherwise the engine reads <see cref="Environment.TickCount64"/>.
/// </summary>
internal static class CoarseClock
{
    private const int MonotonicCoarse = 6; // CLOCK_MONOTONIC_COARSE in <linux/time.h>
    private const long MaxResolutionNanoseconds = 10_000_000;

    /// <summary>Decided once: a static readonly field, so the JIT compiles the hit with the one clock it uses.</summary>
    public static readonly bool IsAvailable = Probe();

    public static unsafe long Milliseconds()
    {
        TimeSpec now;
        _ = ClockGetTime(MonotonicCoarse, &now);
        return (now.Seconds * 1000) + (now.Nanoseconds / 1_000_000);
    }

    private static unsafe bool Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            TimeSpec resolution, now;
            return ClockGetResolution(MonotonicCoarse, &resolution) == 0
                && resolution.Seconds == 0 && resolution.Nanoseconds is > 0 and <= MaxResolutionNanoseconds
                && ClockGetTime(MonotonicCoarse, &now) == 0 && now.Seconds >= 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return false;
        }
    }

    // Pointers, not out parameters: with a pointer the signature needs no marshalling, so the JIT calls libc directly from
    // the hit (an out parameter put a marshalling stub in between, which cost as much as the shim it replaces).
    [DllImport("libc", EntryPoint = "clock_gettime", ExactSpelling = true)]
    [SuppressGCTransition]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern unsafe int ClockGetTime(int clock, TimeSpec* time);

    [DllImport("libc", EntryPoint = "clock_getres", ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern unsafe int ClockGetResolution(int clock, TimeSpec* resolution);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
