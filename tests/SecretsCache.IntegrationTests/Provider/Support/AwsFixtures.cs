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

/// <summary>
/// An emulator serving three regions (us-east-1 the primary, eu-west-1 and us-west-2 for replicas) on a clock that only a
/// test moves; the providers of the failover tests run on the same clock, so TTLs, breakers, token buckets and attempt
/// timeouts move with the emulator's quotas and latency.
/// </summary>
public sealed class MultiRegionAwsFixture : AwsFixture
{
    public const string Primary = "us-east-1";
    public const string Replica = "eu-west-1";
    public const string SecondReplica = "us-west-2";

    internal SignallingTimeProvider Clock { get; } = new(TimeProvider.System.GetUtcNow());

    private protected override AwsEmulatorOptions CreateOptions()
    {
        var options = new AwsEmulatorOptions { TimeProvider = Clock, Region = Primary };
        options.AdditionalRegions.Add(Replica);
        options.AdditionalRegions.Add(SecondReplica);
        return options;
    }
}
