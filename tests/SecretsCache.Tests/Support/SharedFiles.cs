namespace SecretsCache.Tests.Support;

/// <summary>Finds the shared/ folder (AWS models, SigV4 vectors) beside the repository, so tests load AWS's definitions rather than restate them.</summary>
public static class SharedFiles
{
    private static readonly Lazy<string> Root = new(Find);

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root.Value, .. parts]);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { System.IO.Path.Combine(dir.FullName, "shared"), System.IO.Path.Combine(dir.FullName, "..", "shared") })
            {
                if (Directory.Exists(System.IO.Path.Combine(candidate, "aws-models")))
                {
                    return System.IO.Path.GetFullPath(candidate);
                }
            }
        }

        throw new DirectoryNotFoundException("shared/aws-models was not found beside the repository; the tests need AWS's model files.");
    }
}
