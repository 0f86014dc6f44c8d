using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using SecretsCache.Composition;
using SecretsCache.Redis.Composition;
using SecretsCache.Redis.ReadThrough;

namespace SecretsCache.Redis;

/// <summary>
/// Creates a <see cref="SecretProvider"/> with the Redis second level: an encrypted L2 read on an L1 miss before AWS, a
/// fleet-wide single-flight per key, a backplane that carries version changes and invalidations to every instance, and a
/// fleet-wide rate limit. Redis being down never fails creation nor a read: the provider then reads AWS, as without it.
/// </summary>
public static class RedisSecretProvider
{
    /// <summary>
    /// Creates the provider at once; the second level connects in the background (reads go to AWS until it is up). Use
    /// <see cref="CreateAsync"/> to start with the second level connected.
    /// </summary>
    /// <param name="options">The provider's settings, as for <see cref="SecretProvider"/>.</param>
    /// <param name="redisOptions">The second level's settings; validated here. Do not change them afterwards.</param>
    /// <param name="httpClient">The client to send AWS requests with; one is made when <see langword="null"/>.</param>
    /// <param name="loggerFactory">Where log messages go.</param>
    /// <param name="timeProvider">The clock of expiry, leases and the breaker; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="meterFactory">Creates the <c>SecretsCache</c> meter, which the second level's instruments share.</param>
    /// <exception cref="SecretsConfigurationException">Either set of options is invalid.</exception>
    public static SecretProvider Create(
        SecretsCacheOptions options,
        RedisL2Options redisOptions,
        HttpClient? httpClient = null,
        ILoggerFactory? loggerFactory = null,
        TimeProvider? timeProvider = null,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var fleet = new RedisComposition(redisOptions, timeProvider, loggerFactory, meterFactory);
        return ProviderComposition.Create(options, httpClient, loggerFactory, timeProvider, meterFactory, fleet.Hooks());
    }

    /// <summary>
    /// Creates the provider and waits until the second level is made: connected and subscribed, or, when Redis cannot be
    /// reached, after one connect attempt (<see cref="RedisL2Options.ConnectTimeout"/>; it then reconnects by itself). With
    /// <see cref="RedisL2Options.EncryptionKeySecret"/>, the key secret is read first, from AWS.
    /// </summary>
    /// <param name="options">The provider's settings, as for <see cref="SecretProvider"/>.</param>
    /// <param name="redisOptions">The second level's settings; validated here. Do not change them afterwards.</param>
    /// <param name="httpClient">The client to send AWS requests with; one is made when <see langword="null"/>.</param>
    /// <param name="loggerFactory">Where log messages go.</param>
    /// <param name="timeProvider">The clock of expiry, leases and the breaker; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="meterFactory">Creates the <c>SecretsCache</c> meter, which the second level's instruments share.</param>
    /// <param name="cancellationToken">Stops waiting (the provider is then disposed).</param>
    /// <exception cref="SecretsConfigurationException">Either set of options is invalid.</exception>
    public static async Task<SecretProvider> CreateAsync(
        SecretsCacheOptions options,
        RedisL2Options redisOptions,
        HttpClient? httpClient = null,
        ILoggerFactory? loggerFactory = null,
        TimeProvider? timeProvider = null,
        IMeterFactory? meterFactory = null,
        CancellationToken cancellationToken = default)
    {
        var provider = Create(options, redisOptions, httpClient, loggerFactory, timeProvider, meterFactory);
        try
        {
            await FleetOf(provider)!.Ready.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            provider.Dispose();
            throw;
        }

        return provider;
    }

    /// <summary>The second level of a provider made here or by <c>AddSecretsCacheRedis</c>; null for another provider.</summary>
    internal static RedisComposition? FleetOf(SecretProvider provider) => (provider.Runtime.Source as SecondLevelSource)?.Fleet;
}
