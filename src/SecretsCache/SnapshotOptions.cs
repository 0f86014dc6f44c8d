using System.ComponentModel.DataAnnotations;
using static SecretsCache.Composition.OptionsValidation;

namespace SecretsCache;

/// <summary>
/// What <see cref="ISecretProvider.OnSnapshotRestored"/> does with the values cached before a snapshot (AWS Lambda SnapStart
/// restores every execution environment from one snapshot taken after init). See docs/lambda.md.
/// </summary>
[System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026:RequiresUnreferencedCode", Justification = Composition.OptionsValidation.TimeSpanRangeIsNeverConstructed)]
public sealed class SnapshotOptions
{
    /// <summary>
    /// Values fetched longer ago than this when the restore hook runs (counting the time the snapshot was stored, whether or
    /// not the monotonic clock counted it) expire at once: the first read after the restore fetches them again. They stay
    /// servable stale until their own staleness bound, as any expired value. Younger values keep their TTL, with new jitter.
    /// Zero expires every value cached before the restore. Default 1 minute.
    /// </summary>
    [Range(typeof(TimeSpan), Zero, MaxTimeSpan, ParseLimitsInInvariantCulture = true)]
    public TimeSpan MaxAgeAfterRestore { get; set; } = Defaults.MaxAgeAfterRestore;
}
