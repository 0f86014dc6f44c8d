using Amazon.Runtime;
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
        // The environment's credentials (the execution role's, in Lambda) are read once here rather than through the full chain.
        if (Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") is { Length: > 0 } key
            && Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY") is { Length: > 0 } secret)
        {
            var token = Environment.GetEnvironmentVariable("AWS_SESSION_TOKEN");
            options.Aws.Credentials = string.IsNullOrEmpty(token) ? new BasicAWSCredentials(key, secret) : new SessionAWSCredentials(key, secret, token);
        }

        return options;
    }
}
