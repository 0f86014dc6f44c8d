using BenchmarkDotNet.Attributes;
using SecretsCache.Testing;

namespace SecretsCache.Benchmarks;

/// <summary>A miss: one fetch over loopback HTTP through the emulator (signing, JSON, SigV4 verification included).</summary>
[MemoryDiagnoser]
public class MissBenchmarks
{
    private AwsEmulator _aws = null!;
    private SecretProvider _provider = null!;

    [GlobalSetup]
    public void Setup()
    {
        _aws = AwsEmulator.StartAsync().GetAwaiter().GetResult();
        _aws.CreateSecret("app/db-creds", """{"username":"app","password":"p"}""");
        _aws.PutParameter("/app/prod/key", "k");
        var options = new SecretsCacheOptions().UseEmulator(_aws);
        options.RateLimits.SecretsManagerRequestsPerSecond = 0;
        options.RateLimits.ParameterStoreRequestsPerSecond = 0;
        _provider = new SecretProvider(options);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _provider.Dispose();
        _aws.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Description = "miss: GetSecretValue over loopback")]
    public async Task<Secret> SecretsManagerMiss()
    {
        _provider.Invalidate("app/db-creds");
        return await _provider.GetAsync("app/db-creds");
    }

    [Benchmark(Description = "miss: GetParameter over loopback")]
    public async Task<Secret> ParameterStoreMiss()
    {
        _provider.Invalidate("ssm:/app/prod/key");
        return await _provider.GetAsync("ssm:/app/prod/key");
    }
}
