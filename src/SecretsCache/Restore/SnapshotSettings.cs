namespace SecretsCache.Restore;

/// <summary><see cref="SnapshotOptions"/>, frozen.</summary>
internal sealed record SnapshotSettings(TimeSpan MaxAgeAfterRestore)
{
    public static readonly SnapshotSettings Default = new(Defaults.MaxAgeAfterRestore);

    public static SnapshotSettings From(SnapshotOptions o) => new(o.MaxAgeAfterRestore);
}
