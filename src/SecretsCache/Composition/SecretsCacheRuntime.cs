using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecretsCache.Aws.Protocol;
using SecretsCache.Caching;
using SecretsCache.Diagnostics;
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
    private SecretsCacheRuntime(
        SecretsCacheSettings settings, ISecretSource source, TimeProvider time, ILogger logger, IMeterFactory? meterFactory, Func<double>? random)
    {
        Settings = settings;
        Source = source;
        Time = time;
        Logger = logger;
        Metrics = new SecretsCacheMetrics(meterFactory);
        Engine = new CacheEngine(source, settings.Cache, time, logger, Metrics, random);
    }

    public SecretsCacheSettings Settings { get; }

    /// <summary>The outermost source the engine reads (the AWS source, or a decorator of it).</summary>
    public ISecretSource Source { get; }

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
        SecretsCacheRuntimeHooks? hooks = null)
    {
        var settings = SecretsCacheSettings.From(options); // before anything exists, so invalid options leave nothing behind
        var time = timeProvider ?? TimeProvider.System;
        var logger = LoggerOf(loggerFactory);
        var replaceLimiter = hooks?.ReplaceLimiter is { } replace
            ? (budget, local) => replace(budget, local, settings)
            : (Func<CallBudget, ICallLimiter, ICallLimiter>?)null;
        var client = new AwsJsonClient(settings, httpClient, time, logger: logger, replaceLimiter: replaceLimiter);
        ISecretSource source = new AwsSecretSource(client, time, settings, logger);
        source = hooks?.DecorateSource?.Invoke(source, settings) ?? source;
        return new SecretsCacheRuntime(settings, source, time, logger, meterFactory, random: null);
    }

    /// <summary>Composes a provider over a given source (tests, and sources other than AWS).</summary>
    public static SecretsCacheRuntime Create(
        ISecretSource source,
        SecretsCacheOptions options,
        TimeProvider? timeProvider,
        ILoggerFactory? loggerFactory,
        IMeterFactory? meterFactory,
        Func<double>? random)
    {
        ArgumentNullException.ThrowIfNull(source);
        var settings = SecretsCacheSettings.From(options);
        return new SecretsCacheRuntime(settings, source, timeProvider ?? TimeProvider.System, LoggerOf(loggerFactory), meterFactory, random);
    }

    private readonly CancellationTokenSource _disposing = new();
    private int _disposed;

    /// <summary>
    /// Cancelled when the provider is disposed, before anything is released: what uses the provider on its own schedule (the
    /// configuration provider's reload timer) stops with it.
    /// </summary>
    public CancellationToken Disposing => _disposing.Token;

    /// <summary>Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Not disposed: Disposing stays readable, and a cancelled source without a timer holds nothing.
        _disposing.Cancel();
        Engine.Dispose();
        Metrics.Dispose();
        (Source as IDisposable)?.Dispose();
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
    /// Called once the provider is built, before it is handed out: a backplane attaches to its engine
    /// (<see cref="SecretsCacheRuntime.Engine"/>), a second level starts connecting. If it throws, the provider is disposed.
    /// </summary>
    public Action<SecretProvider>? Created { get; init; }
}
