namespace SecretsCache.Sources;

/// <summary>
/// Where the cache engine gets values. Implementations throw the typed <see cref="SecretsCacheException"/> family; they do not cache.
/// </summary>
internal interface ISecretSource
{
    /// <summary>
    /// Fetches one reference. <paramref name="current"/> is the value the cache holds, if any: a source that can tell cheaply that
    /// nothing changed (for example by DescribeSecret) returns that same instance.
    /// </summary>
    ValueTask<Secret> FetchAsync(SecretReference reference, Secret? current, CancellationToken cancellationToken);

    /// <summary>
    /// Fetches one reference for <paramref name="reason"/>. The engine calls this one; a source that does not care why (AWS)
    /// keeps the default, which is the overload above.
    /// </summary>
    ValueTask<Secret> FetchAsync(SecretReference reference, Secret? current, FetchReason reason, CancellationToken cancellationToken) =>
        FetchAsync(reference, current, cancellationToken);

    /// <summary>
    /// True when the source already knows it cannot answer <paramref name="reference"/> within <paramref name="wait"/>: the
    /// service is failing in every region the read could go to, or the read would have to wait for a rate-limit token.
    /// A hint, asked by a reader holding a stale value; a source that cannot tell answers false (the default).
    /// </summary>
    bool CannotAnswerWithin(SecretReference reference, TimeSpan wait) => false;

    /// <summary>
    /// True when the source already knows the service is failing in every region the read of <paramref name="reference"/>
    /// could go to (the failure half of <see cref="CannotAnswerWithin"/>, without the rate limit). False when it cannot tell.
    /// </summary>
    bool KnownFailing(SecretReference reference) => false;

    /// <summary>
    /// For a value of <paramref name="reference"/> this source shares with other instances (a second level), the fraction of
    /// the TTL by which it is refreshed: every instance derives the same refresh point from it and the key (no random
    /// jitter), so the fleet's single-flight makes it one fetch; null (the default) for a value of this instance alone, which
    /// takes the engine's jittered schedule.
    /// </summary>
    double? SharedRefreshAheadFraction(SecretReference reference) => null;

    /// <summary>
    /// Completes when the source next learns of an outage in a region the read of <paramref name="reference"/> may go to, so
    /// that <see cref="CannotAnswerWithin"/> may have turned true; null when the source cannot tell (the default). A reader
    /// holding a stale value waits on it beside the refresh, then asks <see cref="CannotAnswerWithin"/> again. Asked before
    /// <see cref="CannotAnswerWithin"/>, so an outage learnt in between completes it.
    /// </summary>
    Task? NextOutage(SecretReference reference) => null;

    /// <summary>Fetches many references in as few calls as the backend allows. The outcomes line up with <paramref name="references"/>.</summary>
    ValueTask<IReadOnlyList<FetchOutcome>> FetchManyAsync(IReadOnlyList<SecretReference> references, CancellationToken cancellationToken);

    /// <summary>
    /// Reads every Parameter Store parameter under <paramref name="path"/>. A listing longer than
    /// <see cref="ParameterStoreReader.MaxPathPages"/> pages fails (<c>PathTooLarge</c>) rather than being cut short.
    /// </summary>
    Task<IReadOnlyList<Secret>> FetchPathAsync(string path, bool recursive, CancellationToken cancellationToken);
}

/// <summary>One item of a batch fetch: a value or the error for that item.</summary>
internal readonly record struct FetchOutcome(Secret? Secret, Exception? Error)
{
    public static FetchOutcome Success(Secret secret) => new(secret, null);

    public static FetchOutcome Failure(Exception error) => new(null, error);
}
