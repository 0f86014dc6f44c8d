namespace SecretsCache.Tests.Aws.Endpoints;

/// <summary>Finds the shared AWS model files: <c>&lt;x&gt;/shared/aws-models</c> beside the repository at <c>&lt;x&gt;/main</c>.</summary>
internal static class AwsModels
{
    public static string Directory { get; } = Find();

    public static string RuleSetPath(string service) => Path.Combine(Directory, service, "endpoint-rule-set-1.json");

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { Path.Combine(dir.FullName, "shared", "aws-models"), Path.Combine(dir.FullName, "..", "shared", "aws-models") })
            {
                if (System.IO.Directory.Exists(candidate))
                {
                    return Path.GetFullPath(candidate);
                }
            }
        }

        throw new DirectoryNotFoundException($"No shared/aws-models folder above {AppContext.BaseDirectory}.");
    }
}
