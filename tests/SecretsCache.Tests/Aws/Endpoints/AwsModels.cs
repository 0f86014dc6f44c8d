using SecretsCache.TestSupport;

namespace SecretsCache.Tests.Aws.Endpoints;

/// <summary>The AWS model files kept in the repository (<see cref="AwsDefinitions.Models"/>).</summary>
internal static class AwsModels
{
    public static string Directory => AwsDefinitions.Models;

    public static string RuleSetPath(string service) => Path.Combine(Directory, service, "endpoint-rule-set-1.json");
}
