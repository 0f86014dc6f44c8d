namespace SecretsCache.Redis.Encryption;

/// <summary>
/// A value as the second level holds it: the secret, when it was fetched from AWS and until when it is fresh. The TTL is
/// counted from the AWS fetch, whichever level serves the value, so an L1 copy of this entry expires with it.
/// </summary>
internal sealed class L2Entry(Secret secret, DateTimeOffset fetchedAt, DateTimeOffset expiresAt)
{
    public Secret Secret { get; } = secret;

    /// <summary>When the value was fetched from AWS (by the writer's clock).</summary>
    public DateTimeOffset FetchedAt { get; } = fetchedAt;

    /// <summary>When the value stops being fresh: the AWS fetch plus the TTL.</summary>
    public DateTimeOffset ExpiresAt { get; } = expiresAt;

    /// <summary>The version id (or parameter version); null when AWS reported none.</summary>
    public string? Version => Secret.Version;

    /// <summary>How long an L1 copy taken at <paramref name="now"/> may live: what is left of this entry's TTL, never more.</summary>
    public TimeSpan RemainingAt(DateTimeOffset now) => ExpiresAt > now ? ExpiresAt - now : TimeSpan.Zero;

    /// <summary>
    /// When refresh-ahead is due for this value: after <paramref name="refreshAheadFraction"/> of its TTL, counted from the
    /// AWS fetch (the same moment an L1 entry fetched at that time would refresh).
    /// </summary>
    public DateTimeOffset RefreshAheadAt(double refreshAheadFraction) => FetchedAt + ((ExpiresAt - FetchedAt) * Math.Clamp(refreshAheadFraction, 0, 1));
}
