using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using SecretsCache.Caching;
using SecretsCache.Composition;
using SecretsCache.Rotation;
using SecretsCache.Sources;

namespace SecretsCache;

/// <summary>
/// The <see cref="ISecretProvider"/> implementation: a cache engine in front of AWS Secrets Manager and Parameter Store.
/// Create one per process (or per region/account) and dispose it at shutdown.
/// </summary>
public sealed class SecretProvider : ISecretProvider, IProviderRuntime, IDisposable
{
    private readonly SecretsCacheRuntime _runtime;
    private readonly CacheEngine _engine;
    private readonly SecretChangeNotifier _changes;

    /// <summary>Creates a provider that reads from AWS.</summary>
    /// <param name="options">Settings; <see langword="null"/> for the defaults (region and credentials from the environment). They are validated and copied here: changing them afterwards has no effect.</param>
    /// <param name="httpClient">The client to send requests with (for example from <c>IHttpClientFactory</c>); one with pooled connections is made when <see langword="null"/>.</param>
    /// <param name="loggerFactory">Where log messages go.</param>
    /// <param name="timeProvider">The clock for expiry, backoff and signing; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="meterFactory">Creates the <c>SecretsCache</c> meter; a process-wide meter when <see langword="null"/>.</param>
    /// <exception cref="SecretsConfigurationException">The options are invalid or name an endpoint that is not allowed.</exception>
    public SecretProvider(
        SecretsCacheOptions? options = null,
        HttpClient? httpClient = null,
        ILoggerFactory? loggerFactory = null,
        TimeProvider? timeProvider = null,
        IMeterFactory? meterFactory = null)
        : this(SecretsCacheRuntime.Create(options ?? new SecretsCacheOptions(), httpClient, loggerFactory, timeProvider, meterFactory))
    {
    }

    internal SecretProvider(
        ISecretSource source,
        SecretsCacheOptions options,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null,
        Func<double>? random = null)
        : this(SecretsCacheRuntime.Create(source, options, timeProvider, loggerFactory, meterFactory, random))
    {
    }

    internal SecretProvider(SecretsCacheRuntime runtime)
    {
        _runtime = runtime;
        _engine = runtime.Engine;
        _changes = new SecretChangeNotifier(this, runtime.Logger);
        _engine.VersionChanged += _changes.OnVersionChanged;
    }

    /// <inheritdoc />
    public event EventHandler<SecretChangedEventArgs>? SecretChanged
    {
        add => _changes.Changed += value;
        remove => _changes.Changed -= value;
    }

    /// <summary>How many references the cache holds.</summary>
    public int Count => _engine.Count;

    internal CacheEngine Engine => _engine;

    internal SecretsCacheRuntime Runtime => _runtime;

    /// <summary>Cancelled when this provider is disposed.</summary>
    internal CancellationToken Disposing => _runtime.Disposing;

    /// <summary>How many change-token sources and announced versions are tracked (for tests of the bound).</summary>
    internal (int ChangeTokens, int AnnouncedVersions) ChangeTrackingSizes => _engine.ChangeTrackingSizes;

    /// <summary>The clock of expiry and backoff, which rotation re-checks also use.</summary>
    internal TimeProvider TimeProvider => _runtime.Time;

    internal ILogger Logger => _runtime.Logger;

    TimeProvider IProviderRuntime.Time => _runtime.Time;

    ILogger IProviderRuntime.Logger => _runtime.Logger;

    RotationState IProviderRuntime.Rotation => _runtime.Rotation;

    Random IProviderRuntime.Random => _runtime.Random;

    SecretsCacheHealth? IProviderRuntime.GetHealth() => GetHealth();

    /// <summary>Counts fresh, expired, stale-served and failing entries, for health checks. Never includes names or values.</summary>
    public SecretsCacheHealth GetHealth() => _engine.GetHealth();

    /// <inheritdoc />
    public ValueTask<Secret> GetAsync(string reference, CancellationToken cancellationToken = default) =>
        _engine.GetAsync(reference, cancellationToken);

    /// <inheritdoc />
    public bool TryGetCached(string reference, [NotNullWhen(true)] out Secret? secret) => _engine.TryGetCached(reference, out secret);

    /// <inheritdoc />
    public Secret GetSecret(string reference, CancellationToken cancellationToken = default) => _engine.Get(reference, cancellationToken);

    /// <inheritdoc />
    public ValueTask<Secret> RefreshAsync(string reference, CancellationToken cancellationToken = default) =>
        _engine.RefreshAsync(reference, cancellationToken);

    /// <inheritdoc />
    public void Invalidate(string reference) => _engine.Invalidate(reference);

    /// <inheritdoc />
    public void InvalidateAll() => _engine.InvalidateAll();

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, Secret>> GetPathAsync(string path, bool recursive = true, CancellationToken cancellationToken = default) =>
        _engine.GetPathAsync(path, recursive, cancellationToken);

    /// <inheritdoc />
    public Task<WarmUpResult> WarmUpAsync(IEnumerable<string> references, CancellationToken cancellationToken = default) =>
        _engine.WarmUpAsync(references, cancellationToken);

    /// <inheritdoc />
    public IChangeToken GetChangeToken(string reference) => _engine.GetChangeToken(reference);

    /// <summary>
    /// Call once after a snapshot restore (AWS Lambda SnapStart: <c>SnapshotRestore.RegisterAfterRestore</c>). It seeds the
    /// jitter again, so environments restored from one snapshot do not refresh in lockstep; restarts the token buckets at fresh
    /// random phases; expires values at least <see cref="SnapshotOptions.MaxAgeAfterRestore"/> old (the first read fetches them
    /// again; they stay servable stale within their bound) and gives younger ones new jitter; forgets failures seen before
    /// the snapshot; and makes the AWS credentials be resolved again on the next request. Safe while reads are in flight.
    /// </summary>
    public void OnSnapshotRestored() => _runtime.OnSnapshotRestored();

    /// <summary>Cancels fetches under way and releases the meter and, if the provider made it, the HTTP client.</summary>
    public void Dispose() => _runtime.Dispose();
}
