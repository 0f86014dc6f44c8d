using SecretsCache;

namespace LambdaFunction;

/// <summary>
/// The function's settings, from environment variables as Lambda passes them: <c>SECRETSCACHE_WARMUP</c> (comma-separated
/// references loaded at init, all required), <c>SECRETSCACHE_SERVICE_URL</c> (an endpoint such as a loopback emulator), and the standard
/// <c>AWS_REGION</c> and credential variables (the Lambda execution role in production).
/// </summary>
public static class FunctionSettings
{
    public const string WarmUpVariable = "SECRETSCACHE_WARMUP";
    public const string ServiceUrlVariable = "SECRETSCACHE_SERVICE_URL";

    public static IReadOnlyList<string> WarmUpReferences() =>
        (Environment.GetEnvironmentVariable(WarmUpVariable) ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public static SecretsCacheOptions Options()
    {
        var options = new SecretsCacheOptions
        {
            // A Lambda environment lives minutes to hours: keep values 15 minutes, refresh ahead, never block an invocation on AWS
            // when a good value is at hand.
            DefaultTtl = TimeSpan.FromMinutes(15),
            StaleFallbackTimeout = TimeSpan.FromMilliseconds(200),
        };
        options.Aws.ServiceUrl = Environment.GetEnvironmentVariable(ServiceUrlVariable) is { Length: > 0 } url ? url : null;
        // Aws.Credentials stays unset: the provider reads the execution role's keys from the environment itself (without
        // building the whole chain), and reads them again after a snapshot restore (OnSnapshotRestored), when Lambda has put
        // new ones there. Keys copied into Aws.Credentials here would be static: the restored environment would sign with
        // the snapshot's expired session.
        return options;
    }
}
