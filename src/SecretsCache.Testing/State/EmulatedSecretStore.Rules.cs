using SecretsCache.Testing.Protocol;

namespace SecretsCache.Testing.State;

/// <summary>Lookup and staging-label rules shared by the operations; callers hold the lock.</summary>
internal sealed partial class EmulatedSecretStore
{
    /// <summary>Finds a secret by name, full ARN, or ARN without the random suffix; purges it once its recovery window has passed.</summary>
    private SecretRecord? Find(string secretId, DateTimeOffset now)
    {
        SecretRecord? record = null;
        if (secretId.StartsWith("arn:", StringComparison.Ordinal))
        {
            if (!secretId.StartsWith(arns.SecretPrefix, StringComparison.Ordinal))
            {
                return null;
            }

            // A full ARN ends in "-" and six random characters; without them it is a partial ARN naming the secret.
            var rest = secretId[arns.SecretPrefix.Length..];
            var byFullArn = rest.Length > 7 && rest[^7] == '-' && _byName.GetValueOrDefault(rest[..^7]) is { } candidate
                && string.Equals(candidate.Arn, secretId, StringComparison.Ordinal) ? candidate : null;
            record = byFullArn ?? _byName.GetValueOrDefault(rest);
        }
        else
        {
            record = _byName.GetValueOrDefault(secretId);
        }

        if (record?.DeletionDate is { } deletion && deletion <= now)
        {
            _byName.Remove(record.Name);
            return null;
        }

        return record;
    }

    private SecretRecord Resolve(string secretId, DateTimeOffset now) =>
        Find(secretId, now) ?? throw NotFound("Secrets Manager can't find the specified secret.");

    /// <summary>Resolves a secret that is not marked for deletion.</summary>
    private SecretRecord ResolveLive(string secretId, DateTimeOffset now)
    {
        var record = Resolve(secretId, now);
        return record.DeletedDate is null
            ? record
            : throw InvalidRequest("You can't perform this operation on the secret because it was marked for deletion.");
    }

    /// <summary>Moves <paramref name="stage"/> onto <paramref name="target"/>; moving AWSCURRENT leaves AWSPREVIOUS on the old current version.</summary>
    private static void AttachStage(SecretRecord record, SecretVersion target, string stage)
    {
        if (target.Stages.Contains(stage))
        {
            return;
        }

        var holder = record.WithStage(stage);
        holder?.Stages.Remove(stage);
        target.Stages.Add(stage);
        if (holder is not null && string.Equals(stage, Current, StringComparison.Ordinal))
        {
            record.WithStage(Previous)?.Stages.Remove(Previous);
            holder.Stages.Add(Previous);
        }
    }

    /// <summary>AWS keeps about 100 versions; versions without labels are deprecated and go first.</summary>
    private static void PruneDeprecated(SecretRecord record)
    {
        while (record.Versions.Count > MaxVersions && record.Versions.FindIndex(v => v.Stages.Count == 0) is var index and >= 0)
        {
            record.Versions.RemoveAt(index);
        }
    }

    private SecretDescription Snapshot(SecretRecord record) => new(
        record.Arn,
        record.Name,
        record.Description,
        record.KmsKeyId,
        record.CreatedDate,
        record.LastChangedDate,
        record.LastAccessedDate,
        record.DeletedDate,
        [.. record.Tags],
        record.Versions
            .Where(v => v.Stages.Count > 0)
            .Select(v => new KeyValuePair<string, IReadOnlyList<string>>(v.VersionId, [.. v.Stages]))
            .ToList(),
        record.PrimaryRegion ?? (record.Replicas.Count > 0 ? arns.Region : null),
        record.Replicas.Count > 0 ? Statuses(record) : null);

    private static void CheckOneValue(string? secretString, byte[]? secretBinary)
    {
        if (secretString is not null && secretBinary is not null)
        {
            throw InvalidParameter("You can't specify both a binary secret value and a string secret value in the same secret.");
        }
    }

    /// <summary>CreateSecret for a name that exists: a retry (same ClientRequestToken, same value) answers the version it
    /// created; the same token with another value, or any other request, is a conflict.</summary>
    private static SecretWriteResult Replay(SecretRecord existing, string? clientRequestToken, string? secretString, byte[]? secretBinary)
    {
        if (existing.DeletedDate is not null)
        {
            throw InvalidRequest("You can't create this secret because a secret with this name is already scheduled for deletion.");
        }

        if (clientRequestToken is null || existing.WithId(clientRequestToken) is not { } version)
        {
            throw ResourceExists($"The operation failed because the secret {existing.Name} already exists.");
        }

        return SameValue(version, secretString, secretBinary)
            ? new SecretWriteResult(existing.Arn, existing.Name, version.VersionId, [.. version.Stages])
            : throw ResourceExists("You can't modify an existing version, you can only create a new version. Use PutSecretValue to create a new version.");
    }

    /// <summary>The ARN and name a forced delete answers for a secret that does not exist.</summary>
    private (string Arn, string Name) Unknown(string secretId)
    {
        if (!secretId.StartsWith("arn:", StringComparison.Ordinal))
        {
            return (arns.SecretPrefix + secretId, secretId);
        }

        var marker = secretId.IndexOf(":secret:", StringComparison.Ordinal);
        return (secretId, marker < 0 ? secretId : secretId[(marker + ":secret:".Length)..]);
    }

    private static bool SameValue(SecretVersion version, string? secretString, byte[]? secretBinary) =>
        string.Equals(version.SecretString, secretString, StringComparison.Ordinal) && SameBytes(version.SecretBinary, secretBinary);

    private static bool SameBytes(byte[]? a, byte[]? b) =>
        a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);

    private static string NewVersionId() => Guid.NewGuid().ToString();

    private static AwsErrorException NotFound(string message) => new("ResourceNotFoundException", message);

    private static AwsErrorException InvalidParameter(string message) => new("InvalidParameterException", message);

    private static AwsErrorException InvalidRequest(string message) => new("InvalidRequestException", message);

    private static AwsErrorException ResourceExists(string message) => new("ResourceExistsException", message);
}
