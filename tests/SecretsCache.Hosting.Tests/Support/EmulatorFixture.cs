using SecretsCache.Testing;

namespace SecretsCache.Hosting.Tests.Support;

/// <summary>One emulator per test class; tests use distinct names so they do not interfere.</summary>
public sealed class EmulatorFixture : IAsyncLifetime
{
    public AwsEmulator Aws { get; private set; } = null!;

    public SecretsCacheOptions Options(Action<SecretsCacheOptions>? configure = null)
    {
        var options = new SecretsCacheOptions().UseEmulator(Aws);
        options.Retry.MaxRetryAttempts = 0;
        configure?.Invoke(options);
        return options;
    }

    public async Task InitializeAsync()
    {
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
        Aws = await AwsEmulator.StartAsync();
    }

    public async Task DisposeAsync() => await Aws.DisposeAsync();
}
