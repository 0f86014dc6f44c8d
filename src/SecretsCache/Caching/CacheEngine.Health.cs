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

    // A refresh still in flight that the source already knows to be failing: its readers get the stale value now
    // (CacheEngine.Outage.cs), though the refresh's failure is recorded only when it ends. A refresh that only waits for a
    // rate-limit token is answered stale too, but is not failing.
    private bool AnsweredStaleNow(CacheEntry entry) =>
        Volatile.Read(ref entry.InFlight) is { IsCompleted: false } && _source.KnownFailing(entry.Reference);
}
