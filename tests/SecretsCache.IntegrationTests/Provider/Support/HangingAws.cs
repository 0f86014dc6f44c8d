using SecretsCache.IntegrationTests.Emulator.Support;
using SecretsCache.Testing;

namespace SecretsCache.IntegrationTests.Provider.Support;

/// <summary>
/// An emulator whose clock stands still, holding every request in a ten-minute injected latency for as long as a test
/// likes, and options for a provider whose own clock (<see cref="Clock"/>) the test moves: a budget or timeout on the
/// provider's side is then the only thing that can end a read.
/// </summary>
internal sealed class HangingAws : IAsyncDisposable
{
    private HangingAws(AwsEmulator aws, SignallingTimeProvider awsClock)
    {
        Aws = aws;
        AwsClock = awsClock;
    }

    public AwsEmulator Aws { get; }

    /// <summary>The emulator's frozen clock: <c>WaitForTimerAsync</c> returns once a request is held; <c>TimersCreated</c> counts them.</summary>
    public SignallingTimeProvider AwsClock { get; }

    /// <summary>The provider's clock, near the real time so signatures stay inside the emulator's window.</summary>
    public FakeTimeProvider Clock { get; } = new(TimeProvider.System.GetUtcNow());

    /// <summary>Starts it with one secret, <paramref name="name"/> = <paramref name="value"/>.</summary>
    public static async Task<HangingAws> StartAsync(string name, string value)
    {
        var awsClock = new SignallingTimeProvider(TimeProvider.System.GetUtcNow());
        var aws = await AwsEmulator.StartAsync(new AwsEmulatorOptions { TimeProvider = awsClock });
        aws.CreateSecret(name, value);
        aws.Faults.Latency = TimeSpan.FromMinutes(10);
        return new HangingAws(aws, awsClock);
    }

    public SecretsCacheOptions Options() => new SecretsCacheOptions().UseEmulator(Aws);

    public ValueTask DisposeAsync() => Aws.DisposeAsync();
}
