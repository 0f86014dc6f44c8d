using System.Security.Cryptography;

namespace SecretsCache.Testing.State;

/// <summary>
/// The Secrets Manager state with AWS's rules for versions and staging labels: a new AWSCURRENT moves the old one to
/// AWSPREVIOUS, labels are unique within a secret, unlabelled versions are deprecated and pruned past 100, and a
/// deleted secret stays "marked for deletion" until its recovery window ends. Every region has one; they share
/// <see cref="SecretReplication"/>'s lock, and a replica (a copy of another region's primary) is read-only.
/// </summary>
internal sealed partial class EmulatedSecretStore(AwsArns arns, Func<DateTimeOffset> clock, SecretReplication replication)
{
    public const string Current = "AWSCURRENT";
    public const string Previous = "AWSPREVIOUS";
    private const int MaxVersions = 100;
    private const string SuffixAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    private const string NameAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_+=.@-";

    private readonly object _lock = replication.Lock;
    private readonly Dictionary<string, SecretRecord> _byName = new(StringComparer.Ordinal);

    public SecretWriteResult Create(
        string name,
        string? secretString,
        byte[]? secretBinary,
        string? description = null,
        string? kmsKeyId = null,
        IReadOnlyList<KeyValuePair<string, string>>? tags = null,
        string? clientRequestToken = null,
        IReadOnlyList<ReplicaRequest>? replicas = null,
        bool forceOverwriteReplicas = false)
    {
        if (name.Length == 0 || name.Any(c => !NameAlphabet.Contains(c, StringComparison.Ordinal)))
        {
            throw InvalidParameter("Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!");
        }

        CheckOneValue(secretString, secretBinary);
        lock (_lock)
        {
            replication.ApplyDue();
            CheckReplicaRequests(replicas ?? []);
            var now = clock();
            if (Find(name, now) is { } existing)
            {
                return Replay(existing, clientRequestToken, secretString, secretBinary);
            }

            var arn = arns.SecretPrefix + name + "-" + RandomNumberGenerator.GetString(SuffixAlphabet, 6);
            var record = new SecretRecord(name, arn, now) { Description = description, KmsKeyId = kmsKeyId };
            if (tags is not null)
            {
                record.Tags.AddRange(tags);
            }

            string? versionId = null;
            IReadOnlyList<string> stages = [];
            if (secretString is not null || secretBinary is not null)
            {
                var version = new SecretVersion(clientRequestToken ?? NewVersionId(), secretString, secretBinary, now);
                version.Stages.Add(Current);
                record.Versions.Add(version);
                versionId = version.VersionId;
                stages = [Current];
            }

            _byName[name] = record;
            if (replicas is { Count: > 0 })
            {
                AddReplicas(record, replicas, forceOverwriteReplicas);
                return new SecretWriteResult(arn, name, versionId, stages, ReplicationStatus: Statuses(record));
            }

            return new SecretWriteResult(arn, name, versionId, stages);
        }
    }

    public SecretWriteResult PutValue(string secretId, string? secretString, byte[]? secretBinary, IReadOnlyList<string>? versionStages = null, string? clientRequestToken = null)
    {
        if (secretString is null && secretBinary is null)
        {
            throw InvalidParameter("You must provide either SecretString or SecretBinary.");
        }

        CheckOneValue(secretString, secretBinary);
        lock (_lock)
        {
            replication.ApplyDue();
            var now = clock();
            var record = ResolveWritable(secretId, now);
            if (clientRequestToken is not null && record.WithId(clientRequestToken) is { } existing)
            {
                return SameValue(existing, secretString, secretBinary)
                    ? new SecretWriteResult(record.Arn, record.Name, existing.VersionId, [.. existing.Stages])
                    : throw ResourceExists("You can't modify an existing version, you can only create a new version.");
            }

            var version = new SecretVersion(clientRequestToken ?? NewVersionId(), secretString, secretBinary, now);
            var stages = versionStages is { Count: > 0 } ? versionStages.Distinct(StringComparer.Ordinal).ToList() : [Current];
            if (record.WithStage(Current) is null && !stages.Contains(Current, StringComparer.Ordinal))
            {
                // The first value of a secret always becomes AWSCURRENT.
                stages.Add(Current);
            }

            record.Versions.Add(version);
            foreach (var stage in stages)
            {
                AttachStage(record, version, stage);
            }

            record.LastChangedDate = now;
            PruneDeprecated(record);
            Propagate(record);
            return new SecretWriteResult(record.Arn, record.Name, version.VersionId, [.. version.Stages]);
        }
    }

    public SecretWriteResult UpdateStage(string secretId, string stage, string? moveToVersionId, string? removeFromVersionId)
    {
        lock (_lock)
        {
            replication.ApplyDue();
            var now = clock();
            var record = ResolveWritable(secretId, now);
            var holder = record.WithStage(stage);
            if (moveToVersionId is not null)
            {
                var target = record.WithId(moveToVersionId)
                    ?? throw InvalidParameter($"The version ID {moveToVersionId} doesn't exist in the secret.");
                if (holder is not null && holder != target)
                {
                    if (removeFromVersionId is null)
                    {
                        throw InvalidParameter($"The parameter RemoveFromVersionId can't be empty. Staging label {stage} is currently attached to version {holder.VersionId}, so you must explicitly reference that version in RemoveFromVersionId.");
                    }

                    if (!string.Equals(removeFromVersionId, holder.VersionId, StringComparison.Ordinal))
                    {
                        throw InvalidParameter($"The staging label {stage} is currently attached to version {holder.VersionId}, not to the version in RemoveFromVersionId.");
                    }
                }

                AttachStage(record, target, stage);
            }
            else if (removeFromVersionId is not null)
            {
                var version = record.WithId(removeFromVersionId)
                    ?? throw InvalidParameter($"The version ID {removeFromVersionId} doesn't exist in the secret.");
                if (!version.Stages.Contains(stage))
                {
                    throw InvalidParameter($"The staging label {stage} is not attached to the version in RemoveFromVersionId.");
                }

                if (string.Equals(stage, Current, StringComparison.Ordinal))
                {
                    throw InvalidParameter("You can't remove the staging label AWSCURRENT. Move it to another version with MoveToVersionId instead.");
                }

                version.Stages.Remove(stage);
            }
            else
            {
                throw InvalidParameter("You must specify MoveToVersionId or RemoveFromVersionId.");
            }

            record.LastChangedDate = now;
            PruneDeprecated(record);
            Propagate(record);
            return new SecretWriteResult(record.Arn, record.Name, null, []);
        }
    }

    public SecretWriteResult Delete(string secretId, long? recoveryWindowInDays, bool forceDeleteWithoutRecovery)
    {
        if (forceDeleteWithoutRecovery && recoveryWindowInDays is not null)
        {
            throw InvalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
        }

        if (recoveryWindowInDays is < 7 or > 30)
        {
            throw InvalidParameter("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).");
        }

        lock (_lock)
        {
            replication.ApplyDue();
            var now = clock();
            if (forceDeleteWithoutRecovery)
            {
                // Not ResourceNotFoundException for a missing or already deleted secret, so a retried forced delete succeeds.
                if (Find(secretId, now) is not { } found)
                {
                    var (arn, name) = Unknown(secretId);
                    return new SecretWriteResult(arn, name, null, [], now);
                }

                CheckDeletable(found);
                _byName.Remove(found.Name);
                return new SecretWriteResult(found.Arn, found.Name, null, [], now);
            }

            var record = ResolveLive(secretId, now);
            CheckDeletable(record);

            record.DeletedDate = now;
            record.DeletionDate = now.AddDays(recoveryWindowInDays ?? 30);
            return new SecretWriteResult(record.Arn, record.Name, null, [], record.DeletionDate);
        }
    }

    /// <summary>The version selected by id and/or stage (AWSCURRENT when neither is given).</summary>
    public SecretValue GetValue(string secretId, string? versionId, string? versionStage)
    {
        lock (_lock)
        {
            replication.ApplyDue();
            var now = clock();
            var record = ResolveLive(secretId, now);
            SecretVersion? version;
            if (versionId is not null)
            {
                version = record.WithId(versionId);
                if (version is null || (versionStage is not null && !version.Stages.Contains(versionStage)))
                {
                    throw NotFound($"Secrets Manager can't find the specified secret value for VersionId: {versionId}");
                }
            }
            else
            {
                var stage = versionStage ?? Current;
                version = record.WithStage(stage) ?? throw NotFound($"Secrets Manager can't find the specified secret value for staging label: {stage}");
            }

            record.LastAccessedDate = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
            return new SecretValue(record.Arn, record.Name, version.VersionId, version.SecretString, version.SecretBinary, [.. version.Stages], version.CreatedDate);
        }
    }

    public SecretDescription Describe(string secretId)
    {
        lock (_lock)
        {
            replication.ApplyDue();
            return Snapshot(Resolve(secretId, clock()));
        }
    }

    /// <summary>Every secret not marked for deletion, by name.</summary>
    public IReadOnlyList<SecretDescription> ListLive()
    {
        lock (_lock)
        {
            replication.ApplyDue();
            var now = clock();
            return _byName.Values.ToList()
                .Where(r => Find(r.Name, now) is { DeletedDate: null })
                .OrderBy(r => r.Name, StringComparer.Ordinal)
                .Select(Snapshot)
                .ToList();
        }
    }

    /// <summary>The secret's name, or null when it does not exist (used to match access rules).</summary>
    public string? TryResolveName(string secretId)
    {
        lock (_lock)
        {
            replication.ApplyDue();
            return Find(secretId, clock())?.Name;
        }
    }
}
