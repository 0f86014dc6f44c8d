using SecretsCache.Redis.Tests.Support;
using SecretsCache.Testing;

namespace SecretsCache.Redis.Tests.Provider;

/// <summary>Tests of whole providers with the second level: a fresh emulator and fleet per test, on the shared redis-server.</summary>
public abstract class FleetProviderTests(RedisServer server) : IAsyncLifetime
{
    protected RedisServer Server { get; } = server;

    protected AwsEmulator Aws { get; private set; } = null!;

    private protected FleetProviders Fleet { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Aws = await AwsEmulator.StartAsync();
        Fleet = new FleetProviders(Server, Aws);
    }

    public async Task DisposeAsync()
    {
        Fleet.Dispose();
        await Aws.DisposeAsync();
    }
}
