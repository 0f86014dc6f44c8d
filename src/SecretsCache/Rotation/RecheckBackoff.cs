namespace SecretsCache.Rotation;

/// <summary>The pauses between rotation re-checks. Pure: takes values, returns values.</summary>
internal static class RecheckBackoff
{
    /// <summary>
    /// The pause before the <paramref name="recheck"/>-th re-check (from 1): <c>min(cap, base * 2^(n-1))</c> with "equal jitter"
    /// (half fixed, half random), so there is always a pause and many callers spread out. <paramref name="random"/> is in [0, 1).
    /// </summary>
    public static TimeSpan Delay(int recheck, TimeSpan baseDelay, TimeSpan maxDelay, double random)
    {
        var exponent = Math.Clamp(recheck - 1, 0, 30);
        var raw = Math.Min(baseDelay.TotalSeconds * Math.Pow(2, exponent), maxDelay.TotalSeconds);
        return TimeSpan.FromSeconds((raw / 2) + (raw / 2 * Math.Clamp(random, 0, 1)));
    }
}
