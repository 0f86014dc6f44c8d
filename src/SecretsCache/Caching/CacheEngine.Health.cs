namespace SecretsCache.Caching;

/// <summary>The value-free health snapshot behind <see cref="SecretProvider.GetHealth"/>.</summary>
internal sealed partial class CacheEngine
{
    public SecretsCacheHealth GetHealth()
    {
        var now = _clock.Now();
        int entries = 0, fresh = 0, expired = 0, servingStale = 0, failing = 0;
        foreach (var entry in Entries())
        {
            entries++;
            var value = entry.Value;
            var failure = entry.Failure;
            var isFailing = failure is not null && !failure.IsNotFound;
            if (isFailing)
            {
                failing++;
            }

            if (value is null)
            {
                continue;
            }

            if (now < value.ExpiresAt)
            {
                fresh++;
            }
            else
            {
                expired++;
                if (now < value.StaleUntil && (isFailing || AnsweredStaleNow(entry)))
                {
                    servingStale++;
                }
            }
        }

        return new SecretsCacheHealth(entries, fresh, expired, servingStale, failing);
    }

    // A refresh still in flight that the source already knows cannot answer in time: its readers get the stale value now
    // (CacheEngine.Outage.cs), though the refresh's failure is recorded only when it ends. With no fallback wait at all,
    // every refresh is answered stale, failing or not: only its recorded failure counts then.
    private bool AnsweredStaleNow(CacheEntry entry) =>
        _options.StaleFallbackTimeout > TimeSpan.Zero
        && Volatile.Read(ref entry.InFlight) is { IsCompleted: false }
        && _source.CannotAnswerWithin(entry.Reference, _options.StaleFallbackTimeout);
}
