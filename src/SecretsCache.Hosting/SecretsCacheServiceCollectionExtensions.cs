using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SecretsCache;
using SecretsCache.Hosting.DependencyInjection;

// In the namespace of the interface it extends, as Microsoft and the AWS SDK do, so no extra using is needed.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="ISecretProvider"/> in a service collection.</summary>
public static class SecretsCacheServiceCollectionExtensions
{
    /// <summary>The configuration section bound by default: <c>SecretsCache</c> (named providers: <c>SecretsCache:NAME</c>).</summary>
    public const string DefaultSectionName = "SecretsCache";

    /// <summary>
    /// Registers a singleton <see cref="SecretProvider"/> (also as <see cref="ISecretProvider"/>), its options bound from the
    /// container's <see cref="IConfiguration"/> section <c>SecretsCache</c> and then changed by <paramref name="configure"/>.
    /// Options are validated when the host starts.
    /// </summary>
    public static IServiceCollection AddSecretsCache(this IServiceCollection services, Action<SecretsCacheOptions>? configure = null) =>
        Register(services, Microsoft.Extensions.Options.Options.DefaultName, configuration: null, configure);

    /// <summary>Registers the default provider with options bound from <paramref name="configuration"/> (a section such as <c>SecretsCache</c>), then <paramref name="configure"/>.</summary>
    public static IServiceCollection AddSecretsCache(this IServiceCollection services, IConfiguration configuration, Action<SecretsCacheOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return Register(services, Microsoft.Extensions.Options.Options.DefaultName, configuration, configure);
    }

    /// <summary>
    /// Registers a named provider, resolved as the keyed service <paramref name="name"/> (<c>[FromKeyedServices("eu")] ISecretProvider</c>),
    /// its options bound from the section <c>SecretsCache:NAME</c> and then changed by <paramref name="configure"/>.
    /// </summary>
    public static IServiceCollection AddSecretsCache(this IServiceCollection services, string name, Action<SecretsCacheOptions>? configure = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return Register(services, name, configuration: null, configure);
    }

    /// <summary>Registers a named (keyed) provider with options bound from <paramref name="configuration"/>, then <paramref name="configure"/>.</summary>
    public static IServiceCollection AddSecretsCache(this IServiceCollection services, string name, IConfiguration configuration, Action<SecretsCacheOptions>? configure = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configuration);
        return Register(services, name, configuration, configure);
    }

    private static IServiceCollection Register(IServiceCollection services, string name, IConfiguration? configuration, Action<SecretsCacheOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<SecretsCacheOptions>(name);
        var providers = ProviderNames(services);
        if (!string.IsNullOrEmpty(name))
        {
            providers.Add(name);
        }

        options.Configure<IServiceProvider>((o, sp) =>
        {
            var root = sp.GetService<IConfiguration>();
            if (configuration is not null)
            {
                SecretsCacheOptionsBinder.Bind(configuration, o, providers);
            }
            else if (root is not null)
            {
                // A named provider starts from the default section, then applies its own (SecretsCache:NAME).
                var defaults = root.GetSection(DefaultSectionName);
                SecretsCacheOptionsBinder.Bind(defaults, o, providers);
                if (!string.IsNullOrEmpty(name))
                {
                    SecretsCacheOptionsBinder.Bind(defaults.GetSection(name), o, providers);
                }
            }

            if (root is not null)
            {
                SecretsCacheOptionsBinder.BindAwsSection(root, o);
            }
        });

        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Options.IValidateOptions<SecretsCacheOptions>, SecretsCacheOptionsValidator>());
        SecretProviderFactory.AddHttpClient(services, name);
        if (string.IsNullOrEmpty(name))
        {
            services.TryAddSingleton(static sp => SecretProviderFactory.Create(sp, Microsoft.Extensions.Options.Options.DefaultName));
            services.TryAddSingleton<ISecretProvider>(static sp => sp.GetRequiredService<SecretProvider>());
        }
        else
        {
            services.TryAddKeyedSingleton(name, static (sp, key) => SecretProviderFactory.Create(sp, (string)key!));
            services.TryAddKeyedSingleton<ISecretProvider>(name, static (sp, key) => sp.GetRequiredKeyedService<SecretProvider>(key));
        }

        return services;
    }

    /// <summary>The names of this collection's named providers, so that binding the default section skips their sub-sections.</summary>
    private static HashSet<string> ProviderNames(IServiceCollection services)
    {
        if (services.FirstOrDefault(d => d.ServiceType == typeof(ProviderNameSet) && !d.IsKeyedService)?.ImplementationInstance is not ProviderNameSet names)
        {
            names = new ProviderNameSet();
            services.AddSingleton(names);
        }

        return names;
    }

    private sealed class ProviderNameSet() : HashSet<string>(StringComparer.OrdinalIgnoreCase);
}
