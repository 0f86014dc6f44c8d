using Microsoft.Extensions.Logging;

namespace SecretsCache.Redis.Diagnostics;

/// <summary>Every log message of the second level, source-generated. Arguments are operations, kinds and error types, never values or names.</summary>
internal static partial class RedisLog
{
    [LoggerMessage(101, LogLevel.Warning, "Redis failed most recent {Calls} calls: they skip Redis for {BreakSeconds:0.###} s ({Effect})")]
    public static partial void CircuitOpened(ILogger logger, string calls, double breakSeconds, string effect);

    [LoggerMessage(102, LogLevel.Information, "Redis answers {Calls} calls again: they resume")]
    public static partial void CircuitClosed(ILogger logger, string calls);

    [LoggerMessage(103, LogLevel.Debug, "Redis {Operation} failed ({ErrorType}); treated as a miss")]
    public static partial void CallFailed(ILogger logger, string operation, string errorType);

    [LoggerMessage(104, LogLevel.Warning, "An entry is sealed under encryption key {KeyId:x16}, which this instance does not have; the key secret is read again")]
    public static partial void UnknownKey(ILogger logger, ulong keyId);

    [LoggerMessage(105, LogLevel.Warning, "Reading the encryption key secret failed ({ErrorType}); the keys already loaded stay in use")]
    public static partial void KeyReloadFailed(ILogger logger, string errorType);

    [LoggerMessage(106, LogLevel.Information, "Encryption keys loaded: current {KeyId:x16}, {PreviousCount} previous")]
    public static partial void KeysLoaded(ILogger logger, ulong keyId, int previousCount);

    [LoggerMessage(107, LogLevel.Debug, "A {Channel} message was rejected ({Reason})")]
    public static partial void MessageRejected(ILogger logger, string channel, string reason);

    [LoggerMessage(108, LogLevel.Error, "A backplane subscriber failed")]
    public static partial void SubscriberFailed(ILogger logger, Exception exception);

    [LoggerMessage(109, LogLevel.Warning, "Redis is unreachable: the fleet-wide limit for {Quota} falls back to this instance's static share, the quota over a fleet of {FleetSize}")]
    public static partial void FleetFallback(ILogger logger, string quota, int fleetSize);

    [LoggerMessage(110, LogLevel.Error, "The Redis second level could not be made ({ErrorType}); this provider reads AWS without it")]
    public static partial void LevelFailed(ILogger logger, string errorType);

    [LoggerMessage(111, LogLevel.Warning, "InvalidateAll could not remove every entry of the second level (Redis failed, was too slow, or its ACL refuses SCAN: see docs/fleet.md); what is left is read until it expires")]
    public static partial void RemoveAllFailed(ILogger logger);

    [LoggerMessage(112, LogLevel.Warning, "A {Channel} message sent {OffsetSeconds:0.#} s from this instance's clock was dropped (MaxClockSkew is {MaxClockSkewSeconds:0.#} s): the instances' clocks differ by more than that, or Redis delivered an old message again. Logged at most every 5 minutes")]
    public static partial void StaleMessage(ILogger logger, string channel, double offsetSeconds, double maxClockSkewSeconds);

    [LoggerMessage(113, LogLevel.Warning, "More than {Capacity} {Channel} messages arrived within MaxClockSkew: the oldest are refused as possible replays until the rate falls. Logged at most every 5 minutes")]
    public static partial void CrowdedMessages(ILogger logger, string channel, int capacity);

    [LoggerMessage(114, LogLevel.Warning, "A {Channel} message of the first format (an instance of an earlier SecretsCache.Redis build) was dropped: instances of the two builds do not hear each other until every instance runs the new one (docs/fleet.md). Logged at most every 5 minutes")]
    public static partial void FirstFormatMessage(ILogger logger, string channel);
}
