using SecretsCache.TestSupport;

namespace SecretsCache.Tests.Support;

/// <summary>Paths into AWS's definitions kept in the repository (<see cref="AwsDefinitions"/>), named as in ../shared: <c>aws-models/...</c> and <c>sigv4-testsuite/...</c>.</summary>
public static class SharedFiles
{
    public static string Path(params string[] parts) => parts switch
    {
        ["aws-models", .. var rest] => System.IO.Path.Combine([AwsDefinitions.Models, .. rest]),
        ["sigv4-testsuite", .. var rest] => System.IO.Path.Combine([AwsDefinitions.SigV4TestSuite, .. rest]),
        _ => throw new ArgumentException($"Unknown AWS definitions folder '{string.Join('/', parts)}'.", nameof(parts)),
    };
}
