using System.Reflection;
using System.Runtime.Versioning;

namespace SecretsCache.TestSupport;

/// <summary>
/// Each test assembly runs on the runtime of the target it was built for (net8.0 on the 8.0 runtime, not net10.0's rolled
/// forward), so a pass on net8.0 means the shipped net8.0 assets work on .NET 8. Linked into every test project.
/// </summary>
public sealed class TargetRuntimeTests
{
    [Fact]
    public void Runs_on_the_runtime_its_target_framework_names()
    {
        var target = typeof(TargetRuntimeTests).Assembly.GetCustomAttribute<TargetFrameworkAttribute>()!.FrameworkName;
        var targetVersion = new FrameworkName(target).Version;

        Assert.Equal($"{targetVersion.Major}.{targetVersion.Minor}", $"{Environment.Version.Major}.{Environment.Version.Minor}");
    }
}
