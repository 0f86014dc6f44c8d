using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecretsCache.Aws.Protocol;
using SecretsCache.Caching;
using SecretsCache.Diagnostics;
using SecretsCache.Restore;
using SecretsCache.Resilience;
using SecretsCache.Rotation;
using SecretsCache.Sources;

namespace SecretsCache.Composition;

/// <summary>
/// The one composition root. It validates the options once, freezes them into <see cref="SecretsCacheSettings"/>, and wires
/// engine ← source ← call policy ← transport. <see cref="SecretProvider"/> is built only through it, and SecretsCache.Hosting
/// (DI and the configuration provider) only through <see cref="SecretProvider"/>, so every provider is composed the same way.
/// </summary>
/// <remarks>
/// The seam for a second level (SecretsCache.Redis): <see cref="SecretsCacheRuntimeHooks.DecorateSource"/> wraps the AWS
/// source (an L2 read-through is a decorator <see cref="ISecretSource"/>); the engine's <see cref="CacheEngine.Invalidate"/>
/// applies a backplane's remote invalidations; <see cref="SecretsCacheRuntimeHooks.ReplaceLimiter"/> replaces the call
/// policy's local token bucket of a <see cref="CallBudget"/> (a fleet limiter, which keeps the local bucket as its fallback).
/// </remarks>
internal sealed class SecretsCacheRuntime : IDisposable
{
    private readonly AwsJsonClient? _client;
    private readonly ISecretSource _source;
    private readonly object _attachGate = new();
    private bool _attached;

    private SecretsCacheRuntime(
        SecretsCacheSettings settings, ISecretSource source, TimeProvider time, ILogger logger, IMeterFactory? meterFactory, Func<double>? random, ReseedableRandom entropy, AwsJsonClient? client)
    {
        Settings = settings;
        _source = source;
        Time = time;
        Logger = logger;
        Random = entropy;
        _client = client;
        Metrics = new SecretsCacheMetrics(meterFactory);
        Engine = new CacheEngine(source, settings.Cache, time, logger, Metrics, random ?? entropy.NextDouble);
    }

    /// <summary>The provider's randomness (TTL, backoff and retry jitter, bucket phases), seeded again by <see cref="OnSnapshotRestored"/>.</summary>
    public ReseedableRandom Random { get; }

    /// <summary>The AWS transport, when the provider reads AWS (not over a given source).</summary>
    internal AwsJsonClient? Client => _client;

    public SecretsCacheSettings Settings { get; }

    /// <summary>The outermost source the engine reads (the AWS source, or a decorator of it, attached late or not).</summary>
    public ISecretSource Source => _source is AttachableSource attachable ? attachable.Current : _source;

    public CacheEngine Engine { get; }

    public SecretsCacheMetrics Metrics { get; }

    public TimeProvider Time { get; }

    public ILogger Logger { get; }

    /// <summary>What <c>ExecuteAsync</c> remembers per provider (which references work on AWSPENDING).</summary>
    public RotationState Rotation { get; } = new();

    /// <summary>Composes a provider that reads AWS.</summary>
    /// <exception cref="SecretsConfigurationException">The options are invalid or name an endpoint that is not allowed.</exception>
    public static SecretsCacheRuntime Create(
        SecretsCacheOptions options,
        HttpClient? httpClient,
        ILoggerFactory? loggerFactory,
        TimeProvider? timeProvider,
        IMeterFactory? meterFactory,
        SecretsCacheRuntimeHooks? hooks = null,
        Random? seeded = null,
        Func<ValueTask<Amazon.Runtime.AWSCredentials>>? defaultCredentials = null,
        bool attachable = false)
    {
        var settings = SecretsCacheSettings.From(options); // before anything exists, so invalid options leave nothing behind
        var entropy = new ReseedableRandom(seeded);
        var time = timeProvider ?? TimeProvider.System;
        var logger = LoggerOf(loggerFactory);
        var replaceLimiter = hooks?.ReplaceLimiter is { } replace
            ? (budget, local) => replace(budget, local, settings)
            : (Func<CallBudget, ICallLimiter, ICallLimiter>?)null;
        var client = new AwsJsonClient(settings, httpClient, time, logger: logger, replaceLimiter: replaceLimiter, random: entropy, defaultCredentials: defaultCredentials);
        ISecretSource source = new AwsSecretSource(client, time, settings, logger);
        source = hooks?.DecorateSource?.Invoke(source, settings) ?? source;
        if (attachable && hooks is null)
        {
            source = new AttachableSource(source);
        }

        return new SecretsCacheRuntime(settings, source, time, logger, meterFactory, random: null, entropy, client);
    }

    /// <summary>Composes a provider over a given source (tests, and sources other than AWS).</summary>
    public static SecretsCacheRuntime Create(
        ISecretSource source,
        SecretsCacheOptions options,
        TimeProvider? timeProvider,
        ILoggerFactory? loggerFactory,
        IMeterFactory? meterFactory,
        Func<double>? random,
        Random? seeded = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        var settings = SecretsCacheSettings.From(options);
        return new SecretsCacheRuntime(settings, source, timeProvider ?? TimeProvider.System, LoggerOf(loggerFactory), meterFactory, random, new ReseedableRandom(seeded), client: null);
    }

    /// <summary>
    /// After a snapshot restore: seeds the randomness again (from the operating system, read now), so jitter and phases drawn
    /// from here on differ between restored environments; makes the AWS credentials be resolved again and the token buckets
    /// restart at fresh phases; then reschedules the cached values (<see cref="CacheEngine.OnSnapshotRestored"/>).
    /// </summary>
    public RestoreOutcome OnSnapshotRestored()
    {
        Random.Reseed();
        _client?.OnSnapshotRestored();
        return Engine.OnSnapshotRestored(Settings.Snapshot.MaxAgeAfterRestore);
    }

    private readonly CancellationTokenSource _disposing = new();
    private bool _disposed;

    /// <summary>
    /// Cancelled when the provider is disposed, before anything is released: what uses the provider on its own schedule (the
    /// configuration provider's reload timer) stops with it.
    /// </summary>
    public CancellationToken Disposing => _disposing.Token;

    /// <summary>
    /// Composes <paramref name="hooks"/> into a runtime created attachable and without hooks (a configuration source's, which
    /// the container adopts): the limiters made so far and from now on are replaced, and the decorated source goes in front of
    /// the AWS source. Fetches already under way finish as they started. Once per runtime, and not after disposal.
    /// </summary>
    /// <exception cref="InvalidOperationException">The runtime was not created attachable, or hooks were attached already.</exception>
    public void Attach(SecretsCacheRuntimeHooks hooks)
    {
        ArgumentNullException.ThrowIfNull(hooks);
        lock (_attachGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_source is not AttachableSource attachable || _client is null || _attached)
            {
                throw new InvalidOperationException("Only a provider built without hooks, to be adopted, can have hooks attached, and only once.");
            }

            _attached = true;
            if (hooks.ReplaceLimiter is { } replace)
            {
                _client.Policy.ReplaceLimiters((budget, local) => replace(budget, local, Settings));
            }

            if (hooks.DecorateSource is { } decorate)
            {
                attachable.Attach(decorate(attachable.Current, Settings));
            }
        }
    }

    /// <summary>Idempotent.</summary>
    public void Dispose()
    {
        lock (_attachGate) // so a decorator attached now is not left undisposed
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        // Not disposed: Disposing stays readable, and a cancelled source without a timer holds nothing.
        _disposing.Cancel();
        Engine.Dispose();
        Metrics.Dispose();
        (_source as IDisposable)?.Dispose();
    }

    private static ILogger LoggerOf(ILoggerFactory? loggerFactory) => (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<SecretProvider>();
}

/// <summary>Where a package built on the core (SecretsCache.Redis) plugs into the composition.</summary>
internal sealed class SecretsCacheRuntimeHooks
{
    /// <summary>Wraps the AWS source, for example with a second-level cache read before AWS.</summary>
    public Func<ISecretSource, SecretsCacheSettings, ISecretSource>? DecorateSource { get; init; }

    /// <summary>
    /// Replaces the limiter of a <see cref="CallBudget"/>: called once per budget and region with the process's local token bucket
    /// (sized by <see cref="SecretsCacheSettings.RateLimits"/>), it returns the limiter every request of that budget takes a
    /// token from, retries and the clock-skew re-send included, and that <see cref="CallPolicy.PreferBatch"/> asks; or the
    /// local bucket itself. The local bucket stays alive (the policy disposes it last), so a replacement may fall back to it.
    /// A replacement that is <see cref="IDisposable"/> is disposed with the provider.
    /// </summary>
    public Func<CallBudget, ICallLimiter, SecretsCacheSettings, ICallLimiter>? ReplaceLimiter { get; init; }

    /// <summary>
    /// Called once the provider is built, before it is handed out (or, for a provider configuration built and the container
    /// adopted, once the hooks are attached: <see cref="SecretsCacheRuntime.Attach"/>): a backplane attaches to its engine
    /// (<see cref="SecretsCacheRuntime.Engine"/>), a second level starts connecting. If it throws while the provider is being
    /// built, the provider is disposed.
    /// </summary>
    public Action<SecretProvider>? Created { get; init; }
}
