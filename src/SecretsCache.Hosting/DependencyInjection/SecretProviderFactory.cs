using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SecretsCache.Composition;
using SecretsCache.Hosting.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace SecretsCache.Hosting.DependencyInjection;

/// <summary>Builds the singleton <see cref="SecretProvider"/> of one named registration from the container's services.</summary>
internal static class SecretProviderFactory
{
    public static string HttpClientName(string name) => string.IsNullOrEmpty(name) ? "SecretsCache" : "SecretsCache:" + name;

    public static SecretProvider Create(IServiceProvider services, string name)
    {
        if (Adoptable(services, name) is { } configured)
        {
            // Configuration built it before the container existed: what the container adds for this name (the Redis second
            // level) is composed into it now, before the container owns it.
            if (Hooks(services, name) is { } late)
            {
                ProviderComposition.Attach(configured.Owned!, late);
            }

            return configured.Adopt()!;
        }

        var options = services.GetRequiredService<IOptionsMonitor<SecretsCacheOptions>>().Get(name);
        var clientName = HttpClientName(name);

        // The factory hands CreateClient the same handler chain as CreateHandler, so what is checked here is what sends.
        ThrowIfFollowsRedirects(services.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler(clientName), clientName);
        var http = services.GetRequiredService<IHttpClientFactory>().CreateClient(clientName);
        var hooks = Hooks(services, name);
        return ProviderComposition.Create(
            options,
            http,
            services.GetService<ILoggerFactory>(),
            services.GetService<TimeProvider>() ?? TimeProvider.System,
            services.GetService<IMeterFactory>(),
            hooks);
    }

    /// <summary>
    /// The provider a configuration source (<c>AddSecretsCache</c> on the configuration builder) built from this registration's
    /// section, if the container's configuration holds one: the container adopts it, so a host has one cache and one set of
    /// token buckets (the quota share <see cref="RateLimitOptions.ShareAcross"/> computed is not spent twice). Its options are
    /// the ones configuration bound; the registration's are still validated at start-up. What the container registered for the
    /// name (<c>AddSecretsCacheRedis</c>) is attached to it when it is adopted. The container becomes its one owner:
    /// it disposes the provider (which stops the configuration's reload timer), and the configuration no longer does.
    /// </summary>
    private static SecretsConfigurationProvider? Adoptable(IServiceProvider services, string name)
    {
        if (services.GetService<IConfiguration>() is not IConfigurationRoot root)
        {
            return null;
        }

        var section = string.IsNullOrEmpty(name)
            ? SecretsCacheServiceCollectionExtensions.DefaultSectionName
            : SecretsCacheServiceCollectionExtensions.DefaultSectionName + ":" + name;
        return root.Providers.OfType<SecretsConfigurationProvider>()
            .FirstOrDefault(p => p.Owned is not null && string.Equals(p.SectionName, section, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>What packages built on the core (SecretsCache.Redis) registered for this provider's name; null when nothing.</summary>
    private static SecretsCacheRuntimeHooks? Hooks(IServiceProvider services, string name) =>
        ProviderComposition.Combine(services.GetServices<ISecretsCacheRuntimeContributor>()
            .Where(c => string.Equals(c.ProviderName, name, StringComparison.Ordinal))
            .Select(c => c.CreateHooks(services))
            .ToList());

    public static void AddHttpClient(IServiceCollection services, string name)
    {
        // The provider keeps this client for its lifetime, so DNS changes are honoured by the pooled connection lifetime rather
        // than by handler rotation. Timeouts and retries are the provider's own: no HttpClient.Timeout, no retrying handler.
        services.AddHttpClient(HttpClientName(name), static client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(static () => new SocketsHttpHandler
            {
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
                ConnectTimeout = TimeSpan.FromSeconds(5),

                // AWS's JSON endpoints never redirect; following one would send the session token, signature and body elsewhere.
                AllowAutoRedirect = false,

                // An answer refused unread (over Aws.MaxResponseBytes) drops its connection instead of draining the rest.
                MaxResponseDrainSize = 0,
            })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            // IHttpClientFactory logs about four Information lines per request; a cache's AWS calls are its own telemetry.
            // Turn them back on with services.AddHttpClient("SecretsCache").AddDefaultLogger().
            .RemoveAllLoggers();
    }

    /// <summary>
    /// Walks the named client's handler chain (<see cref="DelegatingHandler.InnerHandler"/>, public, so no reflection) and
    /// refuses a primary handler that follows redirects, which someone may have configured on the provider's client name.
    /// A primary handler of another type cannot be inspected; the provider still refuses any answer that arrives from an
    /// address other than the one it signed for.
    /// </summary>
    private static void ThrowIfFollowsRedirects(HttpMessageHandler handler, string clientName)
    {
        for (HttpMessageHandler? current = handler; current is not null; current = (current as DelegatingHandler)?.InnerHandler)
        {
            if (current is SocketsHttpHandler { AllowAutoRedirect: true } or HttpClientHandler { AllowAutoRedirect: true })
            {
                throw new SecretsConfigurationException(
                    $"The HttpClient '{clientName}' has a primary handler ({current.GetType().Name}) that follows redirects. AWS endpoints never redirect, and a followed redirect would carry the session token and the signed request to another address: set AllowAutoRedirect = false on it, or leave the primary handler to SecretsCache.");
            }
        }
    }
}
