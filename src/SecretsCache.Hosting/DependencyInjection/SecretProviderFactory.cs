using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace SecretsCache.Hosting.DependencyInjection;

/// <summary>Builds the singleton <see cref="SecretProvider"/> of one named registration from the container's services.</summary>
internal static class SecretProviderFactory
{
    public static string HttpClientName(string name) => string.IsNullOrEmpty(name) ? "SecretsCache" : "SecretsCache:" + name;

    public static SecretProvider Create(IServiceProvider services, string name)
    {
        var options = services.GetRequiredService<IOptionsMonitor<SecretsCacheOptions>>().Get(name);
        var http = services.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName(name));
        return new SecretProvider(
            options,
            http,
            services.GetService<ILoggerFactory>(),
            services.GetService<TimeProvider>() ?? TimeProvider.System,
            services.GetService<IMeterFactory>());
    }

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
            })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            // IHttpClientFactory logs about four Information lines per request; a cache's AWS calls are its own telemetry.
            // Turn them back on with services.AddHttpClient("SecretsCache").AddDefaultLogger().
            .RemoveAllLoggers();
    }
}
