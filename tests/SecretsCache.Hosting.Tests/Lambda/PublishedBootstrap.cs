using System.Diagnostics;
using SecretsCache.Testing;
using SecretsCache.TestSupport;

namespace SecretsCache.Hosting.Tests.Lambda;

/// <summary>
/// The Lambda sample's bootstrap as a child process, the way Lambda starts it: the Native AOT binary named by
/// <c>SECRETSCACHE_LAMBDA_BOOTSTRAP</c> (test.sh publishes it and sets it), otherwise the JIT build of the same program
/// (<c>dotnet bootstrap.dll</c> from this test's output). Its environment holds only what Lambda would set, plus the
/// emulator's endpoint; it is killed if it has not exited within <see cref="Timeout"/>.
/// </summary>
internal static class PublishedBootstrap
{
    public const string Variable = "SECRETSCACHE_LAMBDA_BOOTSTRAP";

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>The Native AOT binary when one was published for this run, else null (the JIT build runs).</summary>
    public static string? NativePath => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } path ? path : null;

    public static Task<ChildProcessResult> RunAsync(RuntimeApiStandIn runtimeApi, AwsEmulator aws, IEnumerable<string> warmUp)
    {
        ProcessStartInfo start;
        if (NativePath is { } native)
        {
            if (!File.Exists(native))
            {
                throw new FileNotFoundException($"{Variable} names {native}, which does not exist.", native);
            }

            start = new ProcessStartInfo(native);
        }
        else
        {
            start = new ProcessStartInfo(DotnetHost()) { ArgumentList = { Path.Combine(AppContext.BaseDirectory, "bootstrap.dll") } };
        }

        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("AWS_", StringComparison.OrdinalIgnoreCase) || k.StartsWith("SECRETSCACHE_", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["AWS_LAMBDA_RUNTIME_API"] = runtimeApi.HostAndPort;
        start.Environment["AWS_REGION"] = aws.Region;
        start.Environment["AWS_ACCESS_KEY_ID"] = aws.AccessKeyId;
        start.Environment["AWS_SECRET_ACCESS_KEY"] = aws.SecretAccessKey;
        start.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        start.Environment["SECRETSCACHE_SERVICE_URL"] = aws.Endpoint.ToString();
        start.Environment["SECRETSCACHE_WARMUP"] = string.Join(',', warmUp);
        return ChildProcess.RunAsync(start, Timeout);
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
}
