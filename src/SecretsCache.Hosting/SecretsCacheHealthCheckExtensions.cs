using Microsoft.Extensions.Diagnostics.HealthChecks;
using SecretsCache;
using SecretsCache.Hosting.Health;

// In the namespace of the interface it extends, as Microsoft and the AWS SDK do, so no extra using is needed.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the SecretsCache health check.</summary>
public static class SecretsCacheHealthCheckExtensions
{
    /// <summary>
    /// Adds a check that is unhealthy (or <paramref name="failureStatus"/>) when one of <paramref name="requiredReferences"/> cannot
    /// be read, degraded while cached values are served stale because AWS fails, and healthy otherwise.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="requiredReferences">References the app cannot work without; read (usually from cache) on every check.</param>
    /// <param name="providerName">The named provider to check (see <c>AddSecretsCache(name, ...)</c>); the default provider when <see langword="null"/>.</param>
    /// <param name="name">The check's name. Default <c>secretscache</c> (<c>secretscache-NAME</c> for a named provider).</param>
    /// <param name="failureStatus">The status reported when a required reference cannot be read. Default unhealthy.</param>
    /// <param name="tags">Tags for filtering checks, for example <c>ready</c>.</param>
    public static IHealthChecksBuilder AddSecretsCache(
        this IHealthChecksBuilder builder,
        IEnumerable<string>? requiredReferences = null,
        string? providerName = null,
        string? name = null,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var required = (requiredReferences ?? []).ToArray();
        foreach (var reference in required)
        {
            _ = SecretReference.Parse(reference);
        }

        name ??= string.IsNullOrEmpty(providerName) ? "secretscache" : "secretscache-" + providerName;
        return builder.Add(new HealthCheckRegistration(
            name,
            sp => new SecretsCacheHealthCheck(
                string.IsNullOrEmpty(providerName) ? sp.GetRequiredService<ISecretProvider>() : sp.GetRequiredKeyedService<ISecretProvider>(providerName),
                required),
            failureStatus,
            tags));
    }

    /// <summary>Adds health checks to <paramref name="services"/> and the SecretsCache check to them; see <see cref="AddSecretsCache"/>.</summary>
    public static IHealthChecksBuilder AddSecretsCacheHealthCheck(
        this IServiceCollection services,
        IEnumerable<string>? requiredReferences = null,
        string? providerName = null,
        string? name = null,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null) =>
        services.AddHealthChecks().AddSecretsCache(requiredReferences, providerName, name, failureStatus, tags);
}
