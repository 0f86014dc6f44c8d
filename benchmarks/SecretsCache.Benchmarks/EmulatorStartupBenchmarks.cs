using BenchmarkDotNet.Attributes;
using SecretsCache.Testing;

namespace SecretsCache.Benchmarks;

/// <summary>
/// How long a test pays for its own emulators: two started on free loopback ports (Kestrel, the service models, the
/// state), then stopped. The integration tests check only that they start and answer.
/// </summary>
[MemoryDiagnoser]
public class EmulatorStartupBenchmarks
{
    [GlobalSetup]
    public void Setup() => AwsEmulator.StartAsync().GetAwaiter().GetResult().DisposeAsync().AsTask().GetAwaiter().GetResult(); // loads the models once

    [Benchmark(Description = "two emulator starts and stops")]
    public async Task TwoStartsAndStops()
    {
        var first = await AwsEmulator.StartAsync();
        var second = await AwsEmulator.StartAsync();
        await second.DisposeAsync();
        await first.DisposeAsync();
    }
}
