using Microsoft.Extensions.Logging;

namespace SecretsCache.Rotation;

/// <summary>Log messages of rotation handling (event ids 100-119). Arguments are references, versions and error types, never values.</summary>
internal static partial class RotationLog
{
    [LoggerMessage(100, LogLevel.Debug, "A forced refresh of {Reference} was answered from the cache: the last one was less than {IntervalMs:F0} ms ago")]
    public static partial void ForcedRefreshLimited(ILogger logger, string reference, double intervalMs);

    [LoggerMessage(101, LogLevel.Information, "An operation using {Reference} (version {Version}) failed authentication ({ErrorType}); re-checking the secret")]
    public static partial void AuthenticationFailed(ILogger logger, string reference, string? version, string errorType);

    [LoggerMessage(102, LogLevel.Information, "Retrying an operation on {Reference} with version {Version} ({Stage})")]
    public static partial void Retrying(ILogger logger, string reference, string? version, string stage);

    [LoggerMessage(103, LogLevel.Information, "{Reference} works with its AWSPENDING version {Version}; it is used until AWSCURRENT moves")]
    public static partial void UsingPending(ILogger logger, string reference, string? version);

    [LoggerMessage(104, LogLevel.Warning, "No working value of {Reference} was found within {BudgetMs:F0} ms after {Attempts} attempts")]
    public static partial void BudgetExhausted(ILogger logger, string reference, double budgetMs, int attempts);

    [LoggerMessage(105, LogLevel.Warning, "A SecretChanged handler or change-token callback for {Reference} threw; the cache is unaffected")]
    public static partial void ChangeHandlerFailed(ILogger logger, string reference, Exception exception);

    [LoggerMessage(106, LogLevel.Debug, "Re-checking {Reference} failed ({ErrorType}); trying again after the next pause")]
    public static partial void RecheckFailed(ILogger logger, string reference, string errorType);
}
