namespace Amazon.Lambda.Core;

/// <summary>
/// A stand-in with the signature of Amazon.Lambda.Core's <c>SnapshotRestore</c> (2.5.0 and later), for docs/lambda.md's one
/// real line: that package does not restore here. It keeps the hook, as Lambda's runtime does until a restore.
/// </summary>
public static class SnapshotRestore
{
    public static Func<System.Threading.Tasks.ValueTask>? AfterRestore { get; private set; }

    public static void RegisterAfterRestore(Func<System.Threading.Tasks.ValueTask> afterRestoreAction) => AfterRestore = afterRestoreAction;
}
