using SecretsCache.Tests.Fakes;
using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Caching;

/// <summary>A hit on a warm key completes synchronously and allocates nothing (with no listeners attached).</summary>
[Collection(GlobalListenersCollection.Name)]
public sealed class HitAllocationTests
{
    private const int Hits = 10_000;

    [Theory]
    [InlineData("app/db")]
    [InlineData("sm:app/db?stage=AWSCURRENT")]
    [InlineData("ssm:/app/param:3")]
    public async Task A_hit_allocates_nothing_on_a_fake_clock(string reference)
    {
        using var cache = CacheHarness.Create(o => o.RefreshAheadFraction = 0.8);
        cache.Source.Set(reference, "one");
        await cache.ReadAsync(reference);

        AllocatedByHits(cache.Provider, reference); // JIT warm-up and tiering
        AllocatedByHits(cache.Provider, reference);
        var allocated = AllocatedByHits(cache.Provider, reference);

        Assert.Equal(0, allocated);
        Assert.Equal(1, cache.Source.Calls);
    }

    [Fact]
    public async Task A_hit_allocates_nothing_with_the_system_clock_and_default_options()
    {
        var source = new FakeSecretSource();
        source.Set("app/db", "one");
        using var provider = new SecretProvider(source, new SecretsCacheOptions(), TimeProvider.System);
        await provider.GetAsync("app/db");

        AllocatedByHits(provider, "app/db");
        AllocatedByHits(provider, "app/db");
        var allocated = AllocatedByHits(provider, "app/db");

        Assert.Equal(0, allocated);
    }

    private static long AllocatedByHits(SecretProvider provider, string reference)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Hits; i++)
        {
            var read = provider.GetAsync(reference);
            if (!read.IsCompletedSuccessfully)
            {
                throw new InvalidOperationException("A hit did not complete synchronously.");
            }

            _ = read.Result;
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
