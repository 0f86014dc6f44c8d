namespace SecretsCache.TestSupport;

/// <summary>
/// The repository's copy of AWS's own definitions (trimmed service models, retry and endpoint rules, the SigV4 test suite),
/// which tests read rather than restate. It lives in the repository, so a clone tests with nothing beside it; see
/// src/SecretsCache.Testing/AwsModels/README.md. Shared by the test projects (linked).
/// </summary>
internal static class AwsDefinitions
{
    private static readonly Lazy<string> Root = new(FindRepository);

    /// <summary>The trimmed botocore models: <c>secretsmanager/</c>, <c>ssm/</c> and <c>common/</c>.</summary>
    public static string Models => Path.Combine(Root.Value, "src", "SecretsCache.Testing", "AwsModels");

    /// <summary>AWS's Signature Version 4 test suite, one folder per case.</summary>
    public static string SigV4TestSuite => Path.Combine(Root.Value, "tests", "Shared", "sigv4-testsuite");

    private static string FindRepository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SecretsCache.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No SecretsCache.sln above {AppContext.BaseDirectory}: the tests read AWS's definitions from the repository.");
    }
}
