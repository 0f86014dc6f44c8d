using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace SecretsCache.Composition;

/// <summary>
/// Hooks that a package built on the core contributes to one provider a host composes. SecretsCache.Redis's
/// <c>AddSecretsCacheRedis</c> registers one in the container per provider name; SecretsCache.Hosting's factory composes each
/// provider with the contributions registered for its name, so neither package references the other.
/// </summary>
internal interface ISecretsCacheRuntimeContributor
{
    /// <summary>The provider this contributes to: its name in <c>AddSecretsCache</c> (empty for the default provider).</summary>
    string ProviderName { get; }

    /// <summary>The hooks for one composition; called once, when the provider is built.</summary>
    SecretsCacheRuntimeHooks CreateHooks(IServiceProvider services);
}

/// <summary>Composing a provider with hooks: the runtime, the provider, then the hooks' <see cref="SecretsCacheRuntimeHooks.Created"/>.</summary>
internal static class ProviderComposition
{
    public static SecretProvider Create(
        SecretsCacheOptions options, HttpClient? httpClient, ILoggerFactory? loggerFactory, TimeProvider? timeProvider, IMeterFactory? meterFactory, SecretsCacheRuntimeHooks? hooks)
    {
        var provider = new SecretProvider(SecretsCacheRuntime.Create(options, httpClient, loggerFactory, timeProvider, meterFactory, hooks));
        try
        {
            hooks?.Created?.Invoke(provider);
        }
        catch
        {
            provider.Dispose();
            throw;
        }

        return provider;
    }

    /// <summary>
    /// A provider whose hooks come later (<see cref="Attach"/>): a configuration source builds it before the container, whose
    /// contributions (the Redis second level) are known only when the container adopts it.
    /// </summary>
    public static SecretProvider CreateAttachable(SecretsCacheOptions options, TimeProvider? timeProvider) =>
        new(SecretsCacheRuntime.Create(options, httpClient: null, loggerFactory: null, timeProvider, meterFactory: null, attachable: true));

    /// <summary>Composes <paramref name="hooks"/> into a provider made by <see cref="CreateAttachable"/>, then calls their <see cref="SecretsCacheRuntimeHooks.Created"/>.</summary>
    /// <exception cref="InvalidOperationException">The provider was not made attachable, or was attached to already.</exception>
    public static void Attach(SecretProvider provider, SecretsCacheRuntimeHooks hooks)
    {
        provider.Runtime.Attach(hooks);
        hooks.Created?.Invoke(provider);
    }

    /// <summary>One set of hooks doing what each of <paramref name="hooks"/> does, in order; null when there are none.</summary>
    public static SecretsCacheRuntimeHooks? Combine(IReadOnlyList<SecretsCacheRuntimeHooks> hooks)
    {
        if (hooks.Count <= 1)
        {
            return hooks.Count == 0 ? null : hooks[0];
        }

        return new SecretsCacheRuntimeHooks
        {
            DecorateSource = (source, settings) => hooks.Aggregate(source, (inner, h) => h.DecorateSource?.Invoke(inner, settings) ?? inner),
            ReplaceLimiter = (budget, local, settings) => hooks.Aggregate(local, (inner, h) => h.ReplaceLimiter?.Invoke(budget, inner, settings) ?? inner),
            Created = provider =>
            {
                foreach (var h in hooks)
                {
                    h.Created?.Invoke(provider);
                }
            },
        };
    }
}
