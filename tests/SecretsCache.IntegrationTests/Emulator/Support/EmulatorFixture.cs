using SecretsCache.Testing;

namespace SecretsCache.IntegrationTests.Emulator.Support;

/// <summary>A fresh emulator and a signed client for one test.</summary>
internal sealed class EmulatorSession : IAsyncDisposable
{
    private EmulatorSession(AwsEmulator emulator, AwsTestClient client)
    {
        Emulator = emulator;
        Client = client;
    }

    public AwsEmulator Emulator { get; }

    public AwsTestClient Client { get; }

    public static async Task<EmulatorSession> StartAsync(AwsEmulatorOptions? options = null)
    {
        var emulator = await AwsEmulator.StartAsync(options);
        var time = options?.TimeProvider;
        return new EmulatorSession(emulator, new AwsTestClient(emulator, time is null ? null : time.GetUtcNow));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Emulator.DisposeAsync();
    }
}
