using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using SecretsCache.Tests.Fakes;

namespace SecretsCache.Tests.Support;

/// <summary>
/// A provider wired to a fake clock and a fake source. Defaults make timing exact: no TTL jitter, no refresh-ahead, and a
/// fixed "random" of 0.5 for backoff jitter. Tests override what their feature needs.
/// </summary>
internal sealed class CacheHarness : IDisposable
{
    private CacheHarness(SecretsCacheOptions options, Func<double>? random, ILoggerFactory? loggers, IMeterFactory? meters)
    {
        Options = options;
        Source = new FakeSecretSource(Time);
        Provider = new SecretProvider(Source, options, Time, loggers, meters, random);
    }

    public FakeTimeProvider Time { get; } = new();

    public FakeSecretSource Source { get; }

    public SecretsCacheOptions Options { get; }

    public SecretProvider Provider { get; }

    /// <param name="configure">Changes to the exact-timing defaults.</param>
    /// <param name="random">The jitter source; <see cref="RealRandom"/> for the engine's own.</param>
    public static CacheHarness Create(
        Action<SecretsCacheOptions>? configure = null,
        Func<double>? random = null,
        ILoggerFactory? loggers = null,
        IMeterFactory? meters = null)
    {
        var options = new SecretsCacheOptions { TtlJitter = 0, RefreshAheadFraction = 1 };
        configure?.Invoke(options);
        return new CacheHarness(options, ReferenceEquals(random, RealRandom) ? null : random ?? (() => 0.5), loggers, meters);
    }

    /// <summary>Pass as <c>random</c> to let the engine use <see cref="Random.Shared"/>.</summary>
    public static readonly Func<double> RealRandom = () => throw new InvalidOperationException("Marker only.");

    public Task<string> ReadAsync(string reference, CancellationToken cancellationToken = default) =>
        Provider.GetStringAsync(reference, cancellationToken).AsTask();

    public void Dispose() => Provider.Dispose();
}
