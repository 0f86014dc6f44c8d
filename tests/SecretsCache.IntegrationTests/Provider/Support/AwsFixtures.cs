using SecretsCache.IntegrationTests.Emulator.Support;
using SecretsCache.Testing;

namespace SecretsCache.IntegrationTests.Provider.Support;

/// <summary>One emulator on the system clock, shared by the tests of one class (xunit runs them one at a time).</summary>
public class AwsFixture : IAsyncLifetime
{
    private AwsEmulator? _aws;

    public AwsEmulator Aws => _aws ?? throw new InvalidOperationException("The emulator has not started.");

    public async Task InitializeAsync() => _aws = await AwsEmulator.StartAsync(CreateOptions());

    public async Task DisposeAsync()
    {
        if (_aws is not null)
        {
            await _aws.DisposeAsync();
        }
    }

    private protected virtual AwsEmulatorOptions CreateOptions() => new();
}

/// <summary>
/// An emulator whose clock stands still unless a test moves it: quotas never refill and injected latency never ends on
/// their own, so throttling and timeout counts are exact. The clock starts at the real time so the provider's
/// signatures (on the system clock) stay inside the five-minute window.
/// </summary>
public sealed class FrozenClockAwsFixture : AwsFixture
{
    internal FakeTimeProvider Clock { get; } = new(TimeProvider.System.GetUtcNow());

    private protected override AwsEmulatorOptions CreateOptions() => new() { TimeProvider = Clock };
}
