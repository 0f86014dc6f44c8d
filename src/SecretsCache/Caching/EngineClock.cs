namespace SecretsCache.Caching;

/// <summary>
/// The engine's monotonic timestamps for expiry, refresh-ahead, staleness and backoff. With <see cref="TimeProvider.System"/>
/// it reads <see cref="Environment.TickCount64"/> (milliseconds), which costs a fraction of <c>Stopwatch.GetTimestamp</c> on
/// virtual machines and is precise enough for TTLs; any other provider (a test clock) is read as is. Durations for metrics are
/// measured with the provider's precise timestamps instead.
/// </summary>
internal sealed class EngineClock(TimeProvider time)
{
    private readonly bool _system = ReferenceEquals(time, TimeProvider.System);

    public long Frequency => _system ? 1000 : time.TimestampFrequency;

    public long Now() => _system ? Environment.TickCount64 : time.GetTimestamp();
}
