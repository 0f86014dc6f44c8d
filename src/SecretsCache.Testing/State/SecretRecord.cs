namespace SecretsCache.Testing.State;

/// <summary>One secret and its versions. Mutated only under the <see cref="EmulatedSecretStore"/> lock.</summary>
internal sealed class SecretRecord(string name, string arn, DateTimeOffset createdDate)
{
    public string Name { get; } = name;

    public string Arn { get; } = arn;

    public DateTimeOffset CreatedDate { get; } = createdDate;

    public DateTimeOffset LastChangedDate { get; set; } = createdDate;

    public DateTimeOffset? LastAccessedDate { get; set; }

    public DateTimeOffset? DeletedDate { get; set; }

    public DateTimeOffset? DeletionDate { get; set; }

    public string? Description { get; set; }

    public string? KmsKeyId { get; set; }

    public List<KeyValuePair<string, string>> Tags { get; } = [];

    /// <summary>For a replica, the region of its primary; null for a primary. A replica is read-only.</summary>
    public string? PrimaryRegion { get; set; }

    /// <summary>For a primary, its replicas in the order they were added.</summary>
    public List<ReplicaLink> Replicas { get; } = [];

    /// <summary>Oldest first.</summary>
    public List<SecretVersion> Versions { get; } = [];

    public SecretVersion? WithStage(string stage) => Versions.Find(v => v.Stages.Contains(stage));

    public SecretVersion? WithId(string versionId) => Versions.Find(v => string.Equals(v.VersionId, versionId, StringComparison.Ordinal));
}

/// <summary>One version of a secret: its value and staging labels.</summary>
internal sealed class SecretVersion(string versionId, string? secretString, byte[]? secretBinary, DateTimeOffset createdDate)
{
    public string VersionId { get; } = versionId;

    public string? SecretString { get; } = secretString;

    public byte[]? SecretBinary { get; } = secretBinary;

    public DateTimeOffset CreatedDate { get; } = createdDate;

    /// <summary>In the order they were attached.</summary>
    public List<string> Stages { get; } = [];
}

/// <summary>A copy of one secret version, safe to read outside the lock.</summary>
internal sealed record SecretValue(
    string Arn,
    string Name,
    string VersionId,
    string? SecretString,
    byte[]? SecretBinary,
    IReadOnlyList<string> VersionStages,
    DateTimeOffset CreatedDate);

/// <summary>A copy of a secret's metadata, as DescribeSecret answers it.</summary>
internal sealed record SecretDescription(
    string Arn,
    string Name,
    string? Description,
    string? KmsKeyId,
    DateTimeOffset CreatedDate,
    DateTimeOffset LastChangedDate,
    DateTimeOffset? LastAccessedDate,
    DateTimeOffset? DeletedDate,
    IReadOnlyList<KeyValuePair<string, string>> Tags,
    IReadOnlyList<KeyValuePair<string, IReadOnlyList<string>>> VersionIdsToStages,
    string? PrimaryRegion = null,
    IReadOnlyList<ReplicaStatus>? ReplicationStatus = null);

/// <summary>The outcome of a write: which secret, and which version when one was written.</summary>
internal sealed record SecretWriteResult(
    string Arn,
    string Name,
    string? VersionId,
    IReadOnlyList<string> VersionStages,
    DateTimeOffset? DeletionDate = null,
    IReadOnlyList<ReplicaStatus>? ReplicationStatus = null);

/// <summary>A primary's link to one replica region. Mutated only under the stores' shared lock.</summary>
internal sealed class ReplicaLink(string region, string? kmsKeyId, bool forceOverwrite)
{
    public const string InProgress = "InProgress";
    public const string InSync = "InSync";
    public const string Failed = "Failed";

    public string Region { get; } = region;

    public string? KmsKeyId { get; } = kmsKeyId;

    /// <summary>ForceOverwriteReplicaSecret: replace a secret of the same name in the replica region.</summary>
    public bool ForceOverwrite { get; } = forceOverwrite;

    /// <summary>InProgress until the replica is created, then InSync; Failed when the region holds another secret of that name.</summary>
    public string Status { get; set; } = InProgress;

    public string? StatusMessage { get; set; }
}

/// <summary>One entry of ReplicationStatus, as DescribeSecret and the replication operations answer it.</summary>
internal sealed record ReplicaStatus(string Region, string? KmsKeyId, string Status, string? StatusMessage, DateTimeOffset? LastAccessedDate);
