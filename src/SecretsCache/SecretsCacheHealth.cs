namespace SecretsCache;

/// <summary>
/// A value-free snapshot of a provider's cache, for health checks and diagnostics (see <see cref="SecretProvider.GetHealth"/>).
/// </summary>
/// <param name="Entries">References held, with or without a value.</param>
/// <param name="Fresh">Entries whose value is within its TTL.</param>
/// <param name="Expired">Entries whose value is past its TTL and not yet refreshed (the next read fetches, or serves it stale).</param>
/// <param name="ServingStale">Expired entries answered with the last good value because refreshes fail: the last refresh failed, or the
/// one in flight is known to fail (an outage the client already saw).</param>
/// <param name="Failing">Entries whose last fetch failed (a cached not-found excluded).</param>
public readonly record struct SecretsCacheHealth(int Entries, int Fresh, int Expired, int ServingStale, int Failing);
