using System.Text.Json;
using SecretsCache.Testing.Protocol;
using SecretsCache.Testing.State;

namespace SecretsCache.Testing.Operations;

/// <summary>The Secrets Manager operations, shaped as in the service model.</summary>
internal static partial class SecretsManagerApi
{
    public static void GetSecretValue(OperationContext context, Utf8JsonWriter output)
    {
        var secretId = Json.String(context.Input, "SecretId")!;
        var value = ReadValue(context, secretId, Json.String(context.Input, "VersionId"), Json.String(context.Input, "VersionStage"));
        WriteValue(output, value);
    }

    public static void DescribeSecret(OperationContext context, Utf8JsonWriter output)
    {
        var secretId = Json.String(context.Input, "SecretId")!;
        CheckAccess(context, secretId);
        WriteDescription(output, context.State.Secrets.Describe(secretId));
    }

    public static void CreateSecret(OperationContext context, Utf8JsonWriter output)
    {
        var input = context.Input;
        var result = context.State.Secrets.Create(
            Json.String(input, "Name")!,
            Json.String(input, "SecretString"),
            Json.Blob(input, "SecretBinary"),
            Json.String(input, "Description"),
            Json.String(input, "KmsKeyId"),
            Json.Tags(input, "Tags"),
            Json.String(input, "ClientRequestToken"),
            ReplicaRequests(input),
            Json.Bool(input, "ForceOverwriteReplicaSecret"));
        output.WriteString("ARN", result.Arn);
        output.WriteString("Name", result.Name);
        if (result.VersionId is not null)
        {
            output.WriteString("VersionId", result.VersionId);
        }

        if (result.ReplicationStatus is not null)
        {
            WriteReplicationStatus(output, result.ReplicationStatus);
        }
    }

    public static void PutSecretValue(OperationContext context, Utf8JsonWriter output)
    {
        var input = context.Input;
        var result = context.State.Secrets.PutValue(
            Json.String(input, "SecretId")!,
            Json.String(input, "SecretString"),
            Json.Blob(input, "SecretBinary"),
            Json.Strings(input, "VersionStages"),
            Json.String(input, "ClientRequestToken"));
        output.WriteString("ARN", result.Arn);
        output.WriteString("Name", result.Name);
        output.WriteString("VersionId", result.VersionId);
        Json.WriteStrings(output, "VersionStages", result.VersionStages);
    }

    public static void UpdateSecretVersionStage(OperationContext context, Utf8JsonWriter output)
    {
        var input = context.Input;
        var result = context.State.Secrets.UpdateStage(
            Json.String(input, "SecretId")!,
            Json.String(input, "VersionStage")!,
            Json.String(input, "MoveToVersionId"),
            Json.String(input, "RemoveFromVersionId"));
        output.WriteString("ARN", result.Arn);
        output.WriteString("Name", result.Name);
    }

    public static void DeleteSecret(OperationContext context, Utf8JsonWriter output)
    {
        var input = context.Input;
        var result = context.State.Secrets.Delete(
            Json.String(input, "SecretId")!,
            Json.Long(input, "RecoveryWindowInDays"),
            Json.Bool(input, "ForceDeleteWithoutRecovery"));
        output.WriteString("ARN", result.Arn);
        output.WriteString("Name", result.Name);
        Json.WriteTimestamp(output, "DeletionDate", result.DeletionDate!.Value);
    }

    /// <summary>Reads a secret value as GetSecretValue does: access, existence, version, then decryption.</summary>
    internal static SecretValue ReadValue(OperationContext context, string secretId, string? versionId, string? versionStage)
    {
        CheckAccess(context, secretId);
        var value = context.State.Secrets.GetValue(secretId, versionId, versionStage);
        if (context.State.Access.FailsDecryption(EmulatorService.SecretsManager, value.Name))
        {
            throw new AwsErrorException("DecryptionFailure", "Secrets Manager can't decrypt the protected secret text using the provided KMS key.");
        }

        return value;
    }

    internal static void CheckAccess(OperationContext context, string secretId)
    {
        var name = context.State.Secrets.TryResolveName(secretId) ?? secretId;
        if (context.State.Access.IsDenied(EmulatorService.SecretsManager, name))
        {
            throw AccessDenied(context, secretId);
        }
    }

    internal static AwsErrorException AccessDenied(OperationContext context, string resource) => new(
        "AccessDeniedException",
        $"User: arn:{context.State.Arns.Partition}:iam::{context.State.Arns.AccountId}:user/emulator is not authorized to perform: secretsmanager:{context.Operation} on resource: {resource} because no identity-based policy allows the secretsmanager:{context.Operation} action");

    internal static void WriteValue(Utf8JsonWriter output, SecretValue value)
    {
        output.WriteString("ARN", value.Arn);
        output.WriteString("Name", value.Name);
        output.WriteString("VersionId", value.VersionId);
        if (value.SecretString is not null)
        {
            output.WriteString("SecretString", value.SecretString);
        }

        if (value.SecretBinary is not null)
        {
            output.WriteBase64String("SecretBinary", value.SecretBinary);
        }

        Json.WriteStrings(output, "VersionStages", value.VersionStages);
        Json.WriteTimestamp(output, "CreatedDate", value.CreatedDate);
    }

    /// <summary>The members of a DescribeSecret answer; also the passthrough's <c>SourceResult</c>.</summary>
    internal static void WriteDescription(Utf8JsonWriter output, SecretDescription secret)
    {
        output.WriteString("ARN", secret.Arn);
        output.WriteString("Name", secret.Name);
        if (secret.Description is not null)
        {
            output.WriteString("Description", secret.Description);
        }

        if (secret.KmsKeyId is not null)
        {
            output.WriteString("KmsKeyId", secret.KmsKeyId);
        }

        Json.WriteTimestamp(output, "LastChangedDate", secret.LastChangedDate);
        if (secret.LastAccessedDate is { } accessed)
        {
            Json.WriteTimestamp(output, "LastAccessedDate", accessed);
        }

        if (secret.DeletedDate is { } deleted)
        {
            Json.WriteTimestamp(output, "DeletedDate", deleted);
        }

        if (secret.Tags.Count > 0)
        {
            Json.WriteTags(output, "Tags", secret.Tags);
        }

        output.WriteStartObject("VersionIdsToStages");
        foreach (var (versionId, stages) in secret.VersionIdsToStages)
        {
            Json.WriteStrings(output, versionId, stages);
        }

        output.WriteEndObject();
        Json.WriteTimestamp(output, "CreatedDate", secret.CreatedDate);
        if (secret.PrimaryRegion is not null)
        {
            output.WriteString("PrimaryRegion", secret.PrimaryRegion);
        }

        if (secret.ReplicationStatus is not null)
        {
            WriteReplicationStatus(output, secret.ReplicationStatus);
        }
    }
}
