using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecretsCache.Caching;
using SecretsCache.Diagnostics;
using SecretsCache.Sources;

namespace SecretsCache;

/// <summary>
/// The <see cref="ISecretProvider"/> implementation: a cache engine in front of AWS Secrets Manager and Parameter Store.
/// Create one per process (or per region/account) and dispose it at shutdown.
/// </summary>
public sealed class SecretProvider : ISecretProvider, IDisposable
{
    private readonly CacheEngine _engine;
    private readonly SecretsCacheMetrics _metrics;

    internal SecretProvider(
        ISecretSource source,
        SecretsCacheOptions options,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null,
        Func<double>? random = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        _metrics = new SecretsCacheMetrics(meterFactory);
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<SecretProvider>();
        _engine = new CacheEngine(source, options, timeProvider ?? TimeProvider.System, logger, _metrics, random);
    }

    /// <summary>How many references the cache holds.</summary>
    public int Count => _engine.Count;

    internal CacheEngine Engine => _engine;

    /// <inheritdoc />
    public ValueTask<Secret> GetAsync(string reference, CancellationToken cancellationToken = default) =>
        _engine.GetAsync(reference, cancellationToken);

    /// <inheritdoc />
    public ValueTask<Secret> RefreshAsync(string reference, CancellationToken cancellationToken = default) =>
        _engine.RefreshAsync(reference, cancellationToken);

    /// <inheritdoc />
    public void Invalidate(string reference) => _engine.Invalidate(reference);

    /// <inheritdoc />
    public void InvalidateAll() => _engine.InvalidateAll();

    /// <inheritdoc />
    public Task<WarmUpResult> WarmUpAsync(IEnumerable<string> references, CancellationToken cancellationToken = default) =>
        _engine.WarmUpAsync(references, cancellationToken);

    /// <summary>Cancels fetches under way and releases the meter.</summary>
    public void Dispose()
    {
        _engine.Dispose();
        _metrics.Dispose();
    }
}
