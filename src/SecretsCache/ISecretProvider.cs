using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Primitives;

namespace SecretsCache;

/// <summary>
/// The one entry point: reads secrets and parameters by reference, from an in-memory cache that refreshes itself.
/// Thread-safe; register one per process (or per region/account) and share it.
/// </summary>
public interface ISecretProvider
{
    /// <summary>
    /// Returns the cached value of <paramref name="reference"/>, fetching it on first use. Concurrent callers of a missing key share one fetch;
    /// cancelling <paramref name="cancellationToken"/> abandons only this caller's wait.
    /// </summary>
    /// <exception cref="ArgumentException">The reference is malformed.</exception>
    /// <exception cref="SecretNotFoundException">The secret, parameter or version does not exist.</exception>
    /// <exception cref="SecretsCacheException">The value could not be read and no usable stale value exists.</exception>
    ValueTask<Secret> GetAsync(string reference, CancellationToken cancellationToken = default);

    /// <summary>
    /// Fetches <paramref name="reference"/> now, bypassing freshness (joining a fetch already under way), and caches the result.
    /// Forced refreshes are rate-limited per reference (<see cref="SecretsCacheOptions.MinForcedRefreshInterval"/>): inside the
    /// interval this returns the cached value without calling AWS.
    /// </summary>
    ValueTask<Secret> RefreshAsync(string reference, CancellationToken cancellationToken = default);

    /// <summary>Drops the cached value of one reference; the next read fetches it.</summary>
    void Invalidate(string reference);

    /// <summary>Drops every cached value.</summary>
    void InvalidateAll();

    /// <summary>
    /// Reads every Parameter Store parameter under <paramref name="path"/> (for example <c>/app/prod/</c>), following paging, keyed by
    /// parameter name. Each parameter is then cached, so later reads of <c>ssm:NAME</c> are hits. The listing itself is fetched on
    /// every call (concurrent calls for one path share a fetch, bounded by <see cref="SecretsCacheOptions.FetchTimeout"/>;
    /// cancelling <paramref name="cancellationToken"/> abandons only this caller's wait), so a new call sees parameters added or
    /// removed since. A listing that does not end within 10,000 pages (100,000 parameters, the most one account and region can
    /// hold) fails with <see cref="SecretServiceUnavailableException"/> (<c>PathTooLarge</c>) rather than being cut short.
    /// </summary>
    /// <exception cref="ArgumentException">The path is not a valid Parameter Store path.</exception>
    Task<IReadOnlyDictionary<string, Secret>> GetPathAsync(string path, bool recursive = true, CancellationToken cancellationToken = default);

    /// <summary>
    /// Loads many references in as few backend calls as the APIs allow (for example at Lambda init). Never throws for a
    /// reference that fails: the result lists failures, and <see cref="WarmUpResult.ThrowIfAnyFailed"/> turns them into one exception.
    /// A key still backing off after a failure is not fetched again (its last error is listed), and a reference that the size
    /// bound evicted again is listed as a <see cref="SecretsConfigurationException"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A reference is malformed; nothing is fetched.</exception>
    Task<WarmUpResult> WarmUpAsync(IEnumerable<string> references, CancellationToken cancellationToken = default);

    /// <summary>
    /// Raised once per version change seen by a refresh (not once per caller), with the reference and version ids, never values.
    /// Handlers run before the callers waiting on that refresh resume; keep them quick, and do not block on the provider inside
    /// them. A handler that throws is logged and does not affect the cache. The default implementation never raises it.
    /// </summary>
    event EventHandler<SecretChangedEventArgs>? SecretChanged
    {
        add { }
        remove { }
    }

    /// <summary>
    /// A token that fires at the next version change of <paramref name="reference"/> (any spelling), for
    /// <c>ChangeToken.OnChange</c>, configuration reloads and pool resets. Each token fires once; ask for a new one after it fires.
    /// It also fires when the reference leaves the cache (invalidation, or eviction by the size bound), since a change after
    /// that could not be seen: read again. The default implementation returns a token that never fires.
    /// </summary>
    /// <exception cref="ArgumentException">The reference is malformed.</exception>
    IChangeToken GetChangeToken(string reference) => Rotation.NeverChangeToken.Instance;

    /// <summary>
    /// Tells the provider that its process was restored from a snapshot (AWS Lambda SnapStart), for
    /// <c>SnapshotRestore.RegisterAfterRestore</c>: see <see cref="SecretProvider.OnSnapshotRestored"/>. A decorator should
    /// forward it. The default implementation does nothing.
    /// </summary>
    void OnSnapshotRestored()
    {
    }

    /// <summary>
    /// The cached value of <paramref name="reference"/> if it is fresh, without I/O and without blocking: it never fetches and
    /// never creates an entry. A value past its expiry (served only, stale, when a refresh fails), a cached not-found, a key
    /// in failure backoff and a reference not read yet all return <see langword="false"/>; use <see cref="GetSecret"/> or
    /// <see cref="GetAsync"/> for those. The default implementation returns <see langword="false"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The reference is malformed.</exception>
    bool TryGetCached(string reference, [NotNullWhen(true)] out Secret? secret)
    {
        secret = null;
        return false;
    }

    /// <summary>
    /// <see cref="GetAsync"/> for code that cannot await (constructors, configuration binding, older frameworks), safe under
    /// any <see cref="SynchronizationContext"/>: a hit returns at once; a miss runs the shared fetch off the caller's context
    /// and blocks the calling thread until it ends, at most <see cref="SecretsCacheOptions.FetchTimeout"/> (then
    /// <see cref="SecretServiceUnavailableException"/> with code <c>FetchTimeout</c>). Errors are <see cref="GetAsync"/>'s.
    /// Prefer <see cref="GetAsync"/> wherever the caller can await: a miss holds a thread for the whole fetch. The default
    /// implementation runs <see cref="GetAsync"/> on the thread pool and waits for it, without a bound of its own.
    /// </summary>
    /// <exception cref="ArgumentException">The reference is malformed.</exception>
    /// <exception cref="SecretNotFoundException">The secret, parameter or version does not exist.</exception>
    /// <exception cref="SecretsCacheException">The value could not be read and no usable stale value exists.</exception>
    Secret GetSecret(string reference, CancellationToken cancellationToken = default) =>
        Task.Run(() => GetAsync(reference, cancellationToken).AsTask(), cancellationToken).GetAwaiter().GetResult();
}
