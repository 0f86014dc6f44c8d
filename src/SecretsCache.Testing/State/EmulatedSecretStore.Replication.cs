namespace SecretsCache.Testing.State;

/// <summary>Multi-Region secrets: a primary's replicas live in other regions' stores, with the same name, the same
/// ARN suffix and the same versions; they change only through their primary.</summary>
internal sealed partial class EmulatedSecretStore
{
    /// <summary>AWS's words for the region that holds another secret of that name (the model's own example).</summary>
    private const string NameTaken = "Secret with this name already exists in this region";

    /// <summary>ReplicateSecretToRegions: adds replicas to a primary; a region it already replicates to is left as it is.</summary>
    public SecretWriteResult Replicate(string secretId, IReadOnlyList<ReplicaRequest> regions, bool forceOverwrite)
    {
        lock (_lock)
        {
            replication.ApplyDue();
            CheckReplicaRequests(regions);
            var record = ResolveWritable(secretId, clock());
            AddReplicas(record, regions, forceOverwrite);
            return new SecretWriteResult(record.Arn, record.Name, null, [], ReplicationStatus: Statuses(record));
        }
    }

    /// <summary>RemoveRegionsFromReplication: deletes those replicas at once.</summary>
    public SecretWriteResult RemoveReplicas(string secretId, IReadOnlyList<string> regions)
    {
        lock (_lock)
        {
            replication.ApplyDue();
            var record = ResolveWritable(secretId, clock());
            var links = regions.Distinct(StringComparer.Ordinal)
                .Select(r => record.Replicas.Find(l => l.Region == r) ?? throw InvalidParameter($"The secret isn't replicated to the Region {r}."))
                .ToList();
            foreach (var link in links)
            {
                replication.Cancel(link);
                record.Replicas.Remove(link);
                replication.Store(link.Region)?.DropReplica(record.Name, arns.Region);
            }

            return new SecretWriteResult(record.Arn, record.Name, null, [], ReplicationStatus: Statuses(record));
        }
    }

    /// <summary>StopReplicationToReplica, called in the replica's region: the replica becomes a primary of its own,
    /// with the versions it had received.</summary>
    public SecretWriteResult Promote(string secretId)
    {
        lock (_lock)
        {
            replication.ApplyDue();
            var record = ResolveLive(secretId, clock());
            if (record.PrimaryRegion is not { } primaryRegion)
            {
                throw InvalidRequest("The secret isn't a replica: call StopReplicationToReplica in the Region of a replica.");
            }

            if (replication.Store(primaryRegion)?.Peek(record.Name) is { } primary && primary.Replicas.Find(l => l.Region == arns.Region) is { } link)
            {
                replication.Cancel(link);
                primary.Replicas.Remove(link);
            }

            record.PrimaryRegion = null;
            return new SecretWriteResult(record.Arn, record.Name, null, []);
        }
    }

    /// <summary>Lands a primary's image here: creates or updates its replica, or fails the link when another secret
    /// holds the name and the link may not overwrite it. The caller holds the shared lock.</summary>
    public void ReceiveReplica(string primaryRegion, ReplicaLink link, SecretImage image)
    {
        var existing = _byName.GetValueOrDefault(image.Name);
        if (existing is not null && !string.Equals(existing.PrimaryRegion, primaryRegion, StringComparison.Ordinal))
        {
            // A secret that is itself replicated elsewhere is never overwritten: its own replicas would be orphaned.
            if (!link.ForceOverwrite || existing.Replicas.Count > 0)
            {
                link.Status = ReplicaLink.Failed;
                link.StatusMessage = NameTaken;
                return;
            }

            existing = null;
        }

        var replica = existing ?? new SecretRecord(image.Name, arns.SecretPrefix + image.ArnTail, clock())
        {
            PrimaryRegion = primaryRegion,
            KmsKeyId = link.KmsKeyId,
        };
        image.CopyTo(replica);
        _byName[image.Name] = replica;
        link.Status = ReplicaLink.InSync;
        link.StatusMessage = null;
    }

    /// <summary>The record of that name, without purging or replication. The caller holds the shared lock.</summary>
    private SecretRecord? Peek(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Removes the replica of <paramref name="primaryRegion"/>'s secret, if this region holds one. The caller holds the shared lock.</summary>
    private void DropReplica(string name, string primaryRegion)
    {
        if (Peek(name) is { } replica && string.Equals(replica.PrimaryRegion, primaryRegion, StringComparison.Ordinal))
        {
            _byName.Remove(name);
        }
    }

    /// <summary>Replica regions must be other regions the emulator serves.</summary>
    private void CheckReplicaRequests(IReadOnlyList<ReplicaRequest> regions)
    {
        foreach (var region in regions.Select(r => r.Region))
        {
            if (string.Equals(region, arns.Region, StringComparison.Ordinal))
            {
                throw InvalidParameter($"Invalid replica Region {region}: a secret can't be replicated to its primary Region.");
            }

            if (replication.Store(region) is null)
            {
                throw InvalidParameter($"Invalid replica Region {region}: the emulator serves only the Regions given by AwsEmulatorOptions.Region and AdditionalRegions.");
            }
        }
    }

    private void AddReplicas(SecretRecord record, IReadOnlyList<ReplicaRequest> regions, bool forceOverwrite)
    {
        foreach (var request in regions.DistinctBy(r => r.Region, StringComparer.Ordinal))
        {
            // A failed replica is tried again (perhaps now with ForceOverwriteReplicaSecret); a live one is left alone.
            if (record.Replicas.Find(l => l.Region == request.Region) is { } existing)
            {
                if (existing.Status != ReplicaLink.Failed)
                {
                    continue;
                }

                record.Replicas.Remove(existing);
            }

            var link = new ReplicaLink(request.Region, request.KmsKeyId, forceOverwrite);
            record.Replicas.Add(link);
            replication.Schedule(arns.Region, record, link);
        }
    }

    /// <summary>Sends a primary's new state to its replicas.</summary>
    private void Propagate(SecretRecord record)
    {
        foreach (var link in record.Replicas)
        {
            replication.Schedule(arns.Region, record, link);
        }
    }

    /// <summary>A secret that may be written here: live, and not a replica.</summary>
    private SecretRecord ResolveWritable(string secretId, DateTimeOffset now)
    {
        var record = ResolveLive(secretId, now);
        return record.PrimaryRegion is null
            ? record
            : throw InvalidParameter("Operation not permitted on a replica secret. Call must be made in primary secret's region.");
    }

    /// <summary>DeleteSecret refuses replicas (read-only) and primaries that still have replicas.</summary>
    private static void CheckDeletable(SecretRecord record)
    {
        if (record.PrimaryRegion is not null)
        {
            throw InvalidParameter("Operation not permitted on a replica secret. Call must be made in primary secret's region.");
        }

        if (record.Replicas.Count > 0)
        {
            throw InvalidParameter($"You can't delete secret {record.Arn} that still has replica regions [{string.Join(", ", record.Replicas.Select(l => l.Region))}].");
        }
    }

    private List<ReplicaStatus> Statuses(SecretRecord record) => record.Replicas
        .Select(l => new ReplicaStatus(
            l.Region,
            l.KmsKeyId,
            l.Status,
            l.StatusMessage,
            l.Status == ReplicaLink.InSync ? ReplicaIn(l.Region, record.Name)?.LastAccessedDate : null))
        .ToList();

    private SecretRecord? ReplicaIn(string region, string name) =>
        replication.Store(region)?.Peek(name) is { } replica && string.Equals(replica.PrimaryRegion, arns.Region, StringComparison.Ordinal) ? replica : null;
}

/// <summary>One entry of AddReplicaRegions.</summary>
internal sealed record ReplicaRequest(string Region, string? KmsKeyId = null);
