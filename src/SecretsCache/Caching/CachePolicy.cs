using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using SecretsCache.Composition;

namespace SecretsCache.Caching;

/// <summary>The pure arithmetic of expiry, refresh-ahead, staleness and backoff. Takes values, returns values; reads no clock.</summary>
internal readonly struct CachePolicy
{
    private readonly CacheSettings _options;
    private readonly double _frequency;

    public CachePolicy(CacheSettings options, long timestampFrequency)
    {
        _options = options;
        _frequency = timestampFrequency;
    }

    // Durations are capped at a quarter of the timestamp range, so "now + TTL + staleness" cannot overflow: a TimeSpan.MaxValue
    // TTL, MaxStaleness or NegativeTtl means "practically forever", not a wrapped-around time that has already passed.
    private const long MaxTicks = long.MaxValue / 4;

    public long Ticks(TimeSpan duration)
    {
        var ticks = duration.TotalSeconds * _frequency;
        return ticks >= MaxTicks ? MaxTicks : (long)ticks;
    }

    public TimeSpan Duration(long ticks) => TimeSpan.FromSeconds(ticks / _frequency);

    /// <summary>The timestamps of a value fetched at <paramref name="now"/>. <paramref name="random"/> is in [0, 1).</summary>
    public (long RefreshAt, long ExpiresAt, long StaleUntil) Schedule(long now, TimeSpan ttl, double random) =>
        // Jitter only shortens: the configured TTL stays an upper bound on how old a fresh value is.
        Schedule(now, Ticks(ttl) * (1 - (_options.TtlJitter * random)), _options.RefreshAheadFraction);

    /// <summary>
    /// The timestamps of a value shared across a fleet (<see cref="Sources.ISecretSource.SharedRefreshAheadFraction"/>), fetched
    /// at <paramref name="now"/>: the whole TTL, and a refresh point that every instance holding it computes alike, so the
    /// fleet refreshes it once. <paramref name="keyDraw"/> (in [0, 1), the same for a key everywhere) places that point
    /// between <c>f − (1 − f)</c> and <c>f</c> of the TTL, so keys fetched together (a deploy) do not all come due in the
    /// same moment of every cycle; on average a key costs 1 / (f − (1 − f) / 2) fetches per TTL (1.08 at f = 0.95).
    /// </summary>
    public (long RefreshAt, long ExpiresAt, long StaleUntil) ScheduleShared(long now, TimeSpan ttl, double refreshAheadFraction, double keyDraw) =>
        Schedule(now, Ticks(ttl), refreshAheadFraction >= 1 ? 1 : refreshAheadFraction - ((1 - refreshAheadFraction) * keyDraw));

    /// <summary>A number in [0, 1) that depends on <paramref name="key"/> alone, the same in every process (unlike <see cref="string.GetHashCode()"/>).</summary>
    public static double KeyDraw(string key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(MemoryMarshal.AsBytes(key.AsSpan()), hash);
        return BinaryPrimitives.ReadUInt32LittleEndian(hash) / 4294967296.0;
    }

    private (long RefreshAt, long ExpiresAt, long StaleUntil) Schedule(long now, double lifetime, double refreshAheadFraction)
    {
        var expiresAt = now + (long)lifetime;
        var refreshAt = refreshAheadFraction >= 1 ? expiresAt : now + (long)(lifetime * refreshAheadFraction);
        return (refreshAt, expiresAt, expiresAt + Ticks(_options.MaxStaleness));
    }

    /// <summary>
    /// The pause after the <paramref name="consecutiveFailures"/>-th failure in a row: exponential, capped, with "equal jitter"
    /// (half fixed, half random) so a failing key always pauses and a fleet's retries spread out.
    /// </summary>
    public TimeSpan Backoff(int consecutiveFailures, double random)
    {
        var exponent = Math.Min(consecutiveFailures - 1, 30);
        var raw = Math.Min(_options.FailureBackoff.TotalSeconds * Math.Pow(2, exponent), _options.MaxFailureBackoff.TotalSeconds);
        return TimeSpan.FromSeconds((raw / 2) + (raw / 2 * random));
    }

    public static bool IsTransient(Exception error) => error is SecretsCacheException { IsTransient: true };
}
