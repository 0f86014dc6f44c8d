using SecretsCache;
using SecretsCache.Hosting;
using SecretsCache.Hosting.Configuration;

// In the namespace of the interface it extends, as Microsoft and the AWS SDK do, so no extra using is needed.
namespace Microsoft.Extensions.Configuration;

/// <summary>Adds secrets and Parameter Store paths to configuration.</summary>
public static class SecretsCacheConfigurationExtensions
{
    /// <summary>
    /// Loads the secrets and paths chosen in <paramref name="configure"/> into configuration, and reloads them every
    /// <see cref="SecretsConfigurationOptions.ReloadInterval"/> when a value changed. Loading happens here, so a required
    /// secret that is missing fails start-up with a <see cref="SecretsConfigurationException"/> naming it.
    /// </summary>
    public static IConfigurationBuilder AddSecretsCache(this IConfigurationBuilder builder, Action<SecretsConfigurationOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new SecretsConfigurationOptions();
        configure(options);
        return builder.Add(new SecretsConfigurationSource(options));
    }
}
