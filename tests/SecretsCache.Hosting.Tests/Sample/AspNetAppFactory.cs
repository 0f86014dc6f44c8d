using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace SecretsCache.Hosting.Tests.Sample;

/// <summary>The sample on its own in-process emulator, with short TTLs and reload interval so rotation and failure show quickly.</summary>
public sealed class AspNetAppFactory : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
        builder.UseSetting("Demo:UseEmulator", "true");
        builder.UseSetting("Demo:ReloadInterval", "00:00:00.200");
        builder.UseSetting("SecretsCache:DefaultTtl", "00:00:01");
        builder.UseSetting("SecretsCache:TtlJitter", "0");
        builder.UseSetting("SecretsCache:FailureBackoff", "00:00:00.200");
        builder.UseSetting("SecretsCache:MaxFailureBackoff", "00:00:00.500");
        builder.UseSetting("SecretsCache:StaleFallbackTimeout", "00:00:00.500");
        builder.UseSetting("SecretsCache:Retry:MaxRetryAttempts", "1");
        builder.UseSetting("SecretsCache:Retry:BaseDelay", "00:00:00.010");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
    }
}
