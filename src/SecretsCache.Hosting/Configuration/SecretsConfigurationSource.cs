using Microsoft.Extensions.Configuration;
using SecretsCache.Composition;
using SecretsCache.Hosting.DependencyInjection;

namespace SecretsCache.Hosting.Configuration;

/// <summary>Builds the configuration provider, and the <see cref="SecretProvider"/> it reads through when none was given.</summary>
internal sealed class SecretsConfigurationSource(SecretsConfigurationOptions options) : IConfigurationSource
{
    public SecretsConfigurationOptions Options { get; } = options;

    public IConfigurationProvider Build(IConfigurationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (Options.Provider is { } given)
        {
            return new SecretsConfigurationProvider(Options, given, owned: null);
        }

        var cacheOptions = new SecretsCacheOptions();
        BindFromBuiltSoFar(builder, cacheOptions);
        Options.ConfigureProvider?.Invoke(cacheOptions);
        // Attachable: the container that adopts it composes its contributions (the Redis second level) into it then.
        var owned = ProviderComposition.CreateAttachable(cacheOptions, Options.TimeProvider);
        return new SecretsConfigurationProvider(Options, owned, owned);
    }

    private void BindFromBuiltSoFar(IConfigurationBuilder builder, SecretsCacheOptions cacheOptions)
    {
        // ConfigurationManager (WebApplicationBuilder.Configuration) is itself the configuration built so far; a plain builder
        // is built up to this source, read, and disposed.
        if (builder is IConfiguration current)
        {
            SecretsCacheOptionsBinder.Bind(current.GetSection(Options.SectionName), cacheOptions);
            return;
        }

        var before = new ConfigurationBuilder();
        foreach (var source in builder.Sources)
        {
            if (ReferenceEquals(source, this))
            {
                break;
            }

            before.Add(source);
        }

        var root = before.Build();
        try
        {
            SecretsCacheOptionsBinder.Bind(root.GetSection(Options.SectionName), cacheOptions);
        }
        finally
        {
            (root as IDisposable)?.Dispose();
        }
    }
}
