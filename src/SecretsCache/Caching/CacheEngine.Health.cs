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
                if (isFailing && now < value.StaleUntil)
                {
                    servingStale++;
                }
            }
        }

        return new SecretsCacheHealth(entries, fresh, expired, servingStale, failing);
    }
}
