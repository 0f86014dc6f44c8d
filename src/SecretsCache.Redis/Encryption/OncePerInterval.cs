namespace SecretsCache.Redis.Encryption;

/// <summary>Rate-limits an action to one caller per interval, lock-free: <c>last</c> holds the timestamp of the last claim (<see cref="long.MinValue"/>: never).</summary>
internal static class OncePerInterval
{
    /// <summary>True for one caller per <paramref name="interval"/>; that caller's claim is recorded in <paramref name="last"/>.</summary>
    public static bool Claim(ref long last, TimeSpan interval, TimeProvider time)
    {
        var seen = Interlocked.Read(ref last);
        return (seen == long.MinValue || time.GetElapsedTime(seen) >= interval)
            && Interlocked.CompareExchange(ref last, time.GetTimestamp(), seen) == seen;
    }
}
