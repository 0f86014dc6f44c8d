namespace SecretsCache.Sources;

/// <summary>
/// Why the engine asks a source for a value, so a source that is itself a cache (a second level) knows whether it may answer
/// from what it holds.
/// </summary>
internal enum FetchReason
{
    /// <summary>A read found nothing fresh: a first read, or the value expired.</summary>
    Read,

    /// <summary>A hit inside the refresh-ahead window; nobody waits for it.</summary>
    RefreshAhead,

    /// <summary>
    /// A forced refresh: <see cref="ISecretProvider.RefreshAsync"/>, a rotation re-fetch (<c>ExecuteAsync</c>) or an
    /// authentication failure's re-fetch. It must reach AWS: a cache in between is bypassed.
    /// </summary>
    Forced,

    /// <summary>
    /// Another instance announced a version this one does not hold (a backplane message): read the shared level, which
    /// that instance wrote, before AWS.
    /// </summary>
    Announced,
}
