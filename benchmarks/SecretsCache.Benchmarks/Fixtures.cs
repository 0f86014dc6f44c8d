using System.ComponentModel;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using SecretsCache.Sources;
using ZiggyCreatures.Caching.Fusion;

namespace SecretsCache.Benchmarks;

/// <summary>Keys and secrets made before anything is measured, so every cache under test holds the very same objects.</summary>
internal static class Fixtures
{
    /// <summary>Canonical reference texts (<c>sm:app/secret-0</c>...), the form a cache keys on without an alias.</summary>
    public static string[] Keys(int count) => Enumerable.Range(0, count).Select(i => $"sm:app/secret-{i}").ToArray();

    /// <summary>Every cache keeps entries for an hour, so none expires (or refreshes) during a run.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);

    public static SecretsCacheOptions ProviderOptions(int maxEntries = 10_000) =>
        new() { DefaultTtl = Lifetime, MaxEntries = Math.Max(maxEntries, 1) };

    /// <summary>HybridCache as an application would register it, in memory only (no IDistributedCache).</summary>
    public static HybridCache Hybrid()
    {
        var services = new ServiceCollection();
        services.AddHybridCache(o => o.DefaultEntryOptions = new HybridCacheEntryOptions { Expiration = Lifetime, LocalCacheExpiration = Lifetime });
        return services.BuildServiceProvider().GetRequiredService<HybridCache>();
    }

    /// <summary>FusionCache in memory only (no distributed level, no backplane).</summary>
    public static FusionCache Fusion() => new(new FusionCacheOptions { DefaultEntryOptions = new FusionCacheEntryOptions { Duration = Lifetime } });

    /// <summary>The same keys in a fixed random order, for reads that jump around the cache as a real application's do.</summary>
    public static string[] Shuffled(string[] keys, int seed = 42)
    {
        var order = (string[])keys.Clone();
        new Random(seed).Shuffle(order);
        return order;
    }
}

/// <summary>A source that answers with the secret prepared for each name, so the cache holds the caller's objects.</summary>
internal sealed class PreparedSource(IReadOnlyDictionary<string, Secret> byName) : ISecretSource
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    /// <summary>When set, fetches wait for it: a stampede's callers all arrive while the one fetch is under way.</summary>
    public Task? Gate { get; set; }

    public async ValueTask<Secret> FetchAsync(SecretReference reference, Secret? current, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        if (Gate is { } gate)
        {
            await gate.ConfigureAwait(false);
        }

        return byName[reference.Name];
    }

    public Task<IReadOnlyList<Secret>> FetchPathAsync(string path, bool recursive, CancellationToken cancellationToken) =>
        throw new NotSupportedException("The benchmark sources read no paths.");

    public ValueTask<IReadOnlyList<FetchOutcome>> FetchManyAsync(IReadOnlyList<SecretReference> references, CancellationToken cancellationToken) =>
        new(references.Select(r => FetchOutcome.Success(byName[r.Name])).ToList());
}

/// <summary>
/// What an application caches in HybridCache or FusionCache: <see cref="Secret"/> wrapped in a type HybridCache knows to be
/// immutable (sealed, <see cref="ImmutableObjectAttribute"/>), so its L1 hands out the instance instead of a deserialized copy.
/// </summary>
[ImmutableObject(true)]
public sealed class CachedSecret(Secret secret)
{
    public Secret Secret { get; } = secret;
}
