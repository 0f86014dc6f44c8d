using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SecretsCache.Composition;
using SecretsCache.Redis;
using SecretsCache.Redis.DependencyInjection;

// In the namespace of the interface it extends, as AddSecretsCache is, so no extra using is needed.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the Redis second level to a provider registered with <c>AddSecretsCache</c> (SecretsCache.Hosting).</summary>
public static class SecretsCacheRedisServiceCollectionExtensions
{
    /// <summary>The configuration section bound, under a provider's own: <c>SecretsCache:Redis</c> (named providers: <c>SecretsCache:NAME:Redis</c>).</summary>
    public const string SectionName = "Redis";

    /// <summary>
    /// Gives the default provider the Redis second level, its options bound from the section <c>SecretsCache:Redis</c> of the
    /// container's configuration and then changed by <paramref name="configure"/>, validated when the host starts. The
    /// encryption key comes from <see cref="RedisL2Options.EncryptionKeySecret"/> or from code, never from configuration.
    /// </summary>
    public static IServiceCollection AddSecretsCacheRedis(this IServiceCollection services, Action<RedisL2Options>? configure = null) =>
        Register(services, Options.Options.DefaultName, configure);

    /// <summary>Gives the named provider <paramref name="name"/> the Redis second level, bound from <c>SecretsCache:NAME:Redis</c>, then <paramref name="configure"/>.</summary>
    public static IServiceCollection AddSecretsCacheRedis(this IServiceCollection services, string name, Action<RedisL2Options>? configure = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return Register(services, name, configure);
    }

    private static IServiceCollection Register(IServiceCollection services, string name, Action<RedisL2Options>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<RedisL2Options>(name);
        options.Configure<IServiceProvider>((o, sp) =>
        {
            if (sp.GetService<IConfiguration>() is { } root)
            {
                var section = string.IsNullOrEmpty(name) ? "SecretsCache:" + SectionName : $"SecretsCache:{name}:{SectionName}";
                RedisL2OptionsBinder.Bind(root.GetSection(section), o);
            }
        });
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisL2Options>, RedisL2OptionsValidator>());
        if (!services.Any(d => d.ServiceType == typeof(ISecretsCacheRuntimeContributor) && d.ImplementationInstance is RedisContributor c && c.ProviderName == name))
        {
            services.AddSingleton<ISecretsCacheRuntimeContributor>(new RedisContributor(name));
        }

        return services;
    }
}
