namespace SecretsCache.Caching;

/// <summary>Whether a reader holding a stale value waits for the refresh at all (docs/benchmarks.md, "Latency while AWS fails").</summary>
internal sealed partial class CacheEngine
{
    /// <summary>
    /// True when a reader holding a servable stale value of <paramref name="entry"/> should get it at once rather than wait up
    /// to <see cref="SecretsCacheOptions.StaleFallbackTimeout"/> on the refresh (which runs either way, single-flight, so the
    /// value recovers with AWS): the source already knows it cannot answer within that wait (an open breaker, a last attempt
    /// that was an outage in every region the read may go to, or a rate-limit queue at least that long). A failure of the key
    /// alone is not a signal: a malformed or refused answer says nothing of whether the next attempt answers in time.
    /// </summary>
    private bool AnswersStaleAtOnce(CacheEntry entry) =>
        _options.StaleFallbackTimeout == TimeSpan.Zero
        || _source.CannotAnswerWithin(entry.Reference, _options.StaleFallbackTimeout);
}
