using SecretsCache.TestSupport;
using System.Diagnostics;
using System.Reflection;

namespace SecretsCache.Hosting.Tests.Sample;

/// <summary>
/// One run of the built quick start (<c>dotnet QuickStart.dll</c>, what <c>dotnet run --project samples/QuickStart</c> starts),
/// as a child process with no AWS credentials anywhere: no AWS_* variables, an empty home directory (the sample looks for
/// ~/.aws/credentials), credentials and config files that do not exist, and no instance metadata. It is a child process
/// rather than a call to its entry point because both the environment it reads and the console it writes are process-wide.
/// The run is killed, with its whole process tree, if it has not exited within <see cref="Timeout"/>.
/// </summary>
public sealed class QuickStartRun : IAsyncLifetime
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly string _home = Path.Combine(Path.GetTempPath(), $"quickstart-home-{Guid.NewGuid():N}");

    public int ExitCode { get; private set; }

    public string StandardOutput { get; private set; } = "";

    public string StandardError { get; private set; } = "";

    public IReadOnlyList<string> Lines { get; private set; } = [];

    /// <summary>Both streams, for failure messages.</summary>
    public string Transcript => $"exit code {ExitCode}\n--- stdout ---\n{StandardOutput}--- stderr ---\n{StandardError}";

    public async Task InitializeAsync()
    {
        var assembly = typeof(QuickStartRun).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "QuickStartAssembly").Value!;
        if (!File.Exists(assembly))
        {
            throw new FileNotFoundException($"The QuickStart sample is not built at {assembly}; build the solution first.", assembly);
        }

        Directory.CreateDirectory(_home);
        var start = new ProcessStartInfo(DotnetHost())
        {
            ArgumentList = { assembly },
            WorkingDirectory = _home,
        };
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("AWS_", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["HOME"] = _home;
        start.Environment["USERPROFILE"] = _home;
        start.Environment["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(_home, "no-such-dir", "credentials");
        start.Environment["AWS_CONFIG_FILE"] = Path.Combine(_home, "no-such-dir", "config");
        start.Environment["AWS_EC2_METADATA_DISABLED"] = "true";

        (ExitCode, StandardOutput, StandardError) = await ChildProcess.RunAsync(start, Timeout);
        Lines = StandardOutput.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_home, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>The dotnet host that runs these tests (the CLI sets DOTNET_HOST_PATH), else the one on PATH.</summary>
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }

        return Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
    }
}
