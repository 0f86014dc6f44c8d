using Microsoft.Extensions.Logging;

namespace SecretsCache.Diagnostics;

/// <summary>Every log message, source-generated. Arguments are references, versions and error types, never values.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Debug, "Fetched {Reference} (version {Version})")]
    public static partial void Fetched(ILogger logger, string reference, string? version);

    [LoggerMessage(2, LogLevel.Warning, "Fetching {Reference} failed ({ErrorType}); attempt {Attempt}, next attempt in {BackoffMs:F0} ms")]
    public static partial void FetchFailed(ILogger logger, string reference, string errorType, int attempt, double backoffMs, Exception exception);

    [LoggerMessage(3, LogLevel.Information, "{Reference} was not found; the answer is cached for {NegativeTtlMs:F0} ms")]
    public static partial void NotFound(ILogger logger, string reference, double negativeTtlMs);

    [LoggerMessage(4, LogLevel.Warning, "Serving a stale value of {Reference}, fetched {AgeSeconds:F0} s ago, because the backend is failing or slow")]
    public static partial void ServingStale(ILogger logger, string reference, double ageSeconds);

    [LoggerMessage(5, LogLevel.Information, "{Reference} changed from version {OldVersion} to {NewVersion}")]
    public static partial void VersionChanged(ILogger logger, string reference, string? oldVersion, string? newVersion);

    [LoggerMessage(6, LogLevel.Debug, "Evicted {Count} least recently used entries to stay within {MaxEntries}")]
    public static partial void Evicted(ILogger logger, int count, int maxEntries);

    [LoggerMessage(7, LogLevel.Information, "Warm-up loaded {Loaded} of {Total} references in {ElapsedMs:F1} ms")]
    public static partial void WarmedUp(ILogger logger, int loaded, int total, double elapsedMs);

    [LoggerMessage(8, LogLevel.Error, "A VersionChanged subscriber failed for {Reference}")]
    public static partial void VersionChangedHandlerFailed(ILogger logger, string reference, Exception exception);

    [LoggerMessage(9, LogLevel.Warning, "AWS {Service} in {Region} failed most recent calls: calls stop for {BreakSeconds:0.###} s, and stale values are served")]
    public static partial void CircuitOpened(ILogger logger, string service, string region, double breakSeconds);

    [LoggerMessage(10, LogLevel.Information, "AWS {Service} in {Region} answers again: calls resume")]
    public static partial void CircuitClosed(ILogger logger, string service, string region);

    [LoggerMessage(11, LogLevel.Warning, "Warm-up: {Evicted} of {Total} references were evicted again, because MaxEntries is {MaxEntries}; raise it or warm up fewer")]
    public static partial void WarmUpEvicted(ILogger logger, int evicted, int total, int maxEntries);

    [LoggerMessage(12, LogLevel.Debug, "{Reference} was read from {Region} because {PrimaryRegion} failed ({ErrorType})")]
    public static partial void FailedOver(ILogger logger, string reference, string region, string primaryRegion, string errorType);

    [LoggerMessage(13, LogLevel.Debug, "A batch of {Count} secrets was read from {Region} because {PrimaryRegion} failed ({ErrorType})")]
    public static partial void BatchFailedOver(ILogger logger, int count, string region, string primaryRegion, string errorType);

    [LoggerMessage(14, LogLevel.Warning, "Failing over {Reference} to {Region} was refused there ({ErrorType}): is the secret replicated to it, and may this role read the replica (see docs/failover.md)?")]
    public static partial void ReplicaRefused(ILogger logger, string reference, string region, string errorType);
}
