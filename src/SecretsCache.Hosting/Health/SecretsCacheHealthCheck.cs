using Microsoft.Extensions.Diagnostics.HealthChecks;
using SecretsCache.Composition;

namespace SecretsCache.Hosting.Health;

/// <summary>
/// Unhealthy when a required reference cannot be read; degraded while values are served stale because refreshes fail;
/// healthy otherwise. Descriptions and data hold counts and reference names, never values.
/// </summary>
internal sealed class SecretsCacheHealthCheck(ISecretProvider provider, IReadOnlyList<string> requiredReferences) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var unreadable = new List<string>();
        foreach (var reference in requiredReferences)
        {
            try
            {
                // A cache hit, a refresh, or the last good value served stale: only a read that yields nothing counts.
                _ = await provider.GetAsync(reference, cancellationToken).ConfigureAwait(false);
            }
            catch (SecretsCacheException ex)
            {
                unreadable.Add($"{reference} ({ex.ErrorCode ?? ex.GetType().Name})");
            }
        }

        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var health = ProviderRuntime.Of(provider).GetHealth(); // null for a provider that keeps no cache snapshot
        if (health is { } h)
        {
            data["entries"] = h.Entries;
            data["fresh"] = h.Fresh;
            data["expired"] = h.Expired;
            data["servingStale"] = h.ServingStale;
            data["failing"] = h.Failing;
        }

        if (unreadable.Count > 0)
        {
            data["unreadable"] = unreadable.ToArray();
            return new HealthCheckResult(
                context.Registration.FailureStatus,
                $"{unreadable.Count} required secret reference(s) cannot be read: {string.Join(", ", unreadable)}.",
                data: data);
        }

        if (health is { ServingStale: > 0 } stale)
        {
            return HealthCheckResult.Degraded($"{stale.ServingStale} secret value(s) are being served stale because refreshes from AWS fail.", data: data);
        }

        return HealthCheckResult.Healthy($"{health?.Fresh ?? 0} fresh secret value(s) cached.", data);
    }
}
