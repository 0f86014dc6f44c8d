using Microsoft.Extensions.Logging;

namespace SecretsCache.Diagnostics;

/// <summary>The snapshot-restore hook's message (ids 120 and up).</summary>
internal static partial class Log
{
    [LoggerMessage(120, LogLevel.Information, "Snapshot restore: {Expired} value(s) at least {MaxAgeSeconds:0.###} s old expire now, {Rescheduled} rescheduled with new jitter, {Skipped} left to a fetch under way, {Forgotten} failure(s) forgotten; the clock missed {MissedSeconds:0.###} s")]
    public static partial void SnapshotRestored(ILogger logger, int expired, int rescheduled, int skipped, int forgotten, double missedSeconds, double maxAgeSeconds);
}
