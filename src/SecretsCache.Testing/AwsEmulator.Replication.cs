using SecretsCache.Testing.State;

namespace SecretsCache.Testing;

/// <summary>Multi-Region secrets: replicas in other regions the emulator serves, kept in step with their primary.</summary>
public sealed partial class AwsEmulator
{
    /// <summary>How long a change to a primary secret takes to reach its replicas (their creation included), on the
    /// emulator's <see cref="TimeProvider"/>: until then a replica answers its previous versions, or
    /// ResourceNotFoundException before its creation lands. Default zero: replicas change in the same step as their primary.</summary>
    public TimeSpan ReplicationLag
    {
        get => _state.Replication.Lag;
        set => _state.Replication.Lag = value;
    }

    /// <summary>Replicates a primary secret to <paramref name="regions"/>, as ReplicateSecretToRegions does: each replica
    /// has the same name, versions and staging labels, and an ARN with its own region and the primary's suffix; it is
    /// read-only and follows every change of the primary. Returns the replica ARNs, in the order of <paramref name="regions"/>.</summary>
    /// <exception cref="InvalidOperationException">A region already holds another secret of that name (its replica's
    /// status is Failed), or the secret is missing or a replica itself.</exception>
    /// <exception cref="ArgumentException">A region is not served, or is the primary's own.</exception>
    public IReadOnlyList<string> ReplicateSecretToRegions(string nameOrArn, params string[] regions)
    {
        ArgumentNullException.ThrowIfNull(regions);
        var primary = At(null, nameOrArn);
        foreach (var region in regions)
        {
            if (_state.Find(region) is null || region == primary.Region)
            {
                throw new ArgumentException(region == primary.Region ? $"The secret is already in the region '{region}'." : NotServed(region).Message, nameof(regions));
            }
        }

        var result = Seed(() => primary.Secrets.Replicate(nameOrArn, regions.Select(r => new ReplicaRequest(r)).ToList(), forceOverwrite: false));
        var failed = result.ReplicationStatus!.Where(s => s.Status == ReplicaLink.Failed && regions.Contains(s.Region)).ToList();
        if (failed.Count > 0)
        {
            throw new InvalidOperationException($"Replication of {result.Name} failed in {string.Join(", ", failed.Select(f => $"{f.Region} ({f.StatusMessage})"))}.");
        }

        var tail = result.Arn[primary.Arns.SecretPrefix.Length..];
        return regions.Select(r => _state.Find(r)!.Arns.SecretPrefix + tail).ToList();
    }

    /// <summary>Deletes the replicas of a primary secret in <paramref name="regions"/> at once, as RemoveRegionsFromReplication does.</summary>
    public void RemoveRegionsFromReplication(string nameOrArn, params string[] regions)
    {
        ArgumentNullException.ThrowIfNull(regions);
        Seed(() => At(null, nameOrArn).Secrets.RemoveReplicas(nameOrArn, regions));
    }

    /// <summary>Promotes a replica to a standalone primary in its region, as StopReplicationToReplica does; it keeps the
    /// versions it had received. A plain name is looked up in <paramref name="region"/> (default <see cref="Region"/>).</summary>
    public void StopReplicationToReplica(string nameOrArn, string? region = null) =>
        Seed(() => At(region, nameOrArn).Secrets.Promote(nameOrArn));
}
