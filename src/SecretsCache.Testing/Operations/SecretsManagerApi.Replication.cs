using System.Text.Json;
using SecretsCache.Testing.State;

namespace SecretsCache.Testing.Operations;

/// <summary>The Multi-Region operations: ReplicateSecretToRegions, RemoveRegionsFromReplication, StopReplicationToReplica.</summary>
internal static partial class SecretsManagerApi
{
    public static void ReplicateSecretToRegions(OperationContext context, Utf8JsonWriter output)
    {
        var input = context.Input;
        var secretId = Json.String(input, "SecretId")!;
        var result = context.State.Secrets.Replicate(secretId, ReplicaRequests(input) ?? [], Json.Bool(input, "ForceOverwriteReplicaSecret"));
        output.WriteString("ARN", result.Arn);
        WriteReplicationStatus(output, result.ReplicationStatus!);
    }

    public static void RemoveRegionsFromReplication(OperationContext context, Utf8JsonWriter output)
    {
        var input = context.Input;
        var secretId = Json.String(input, "SecretId")!;
        var result = context.State.Secrets.RemoveReplicas(secretId, Json.Strings(input, "RemoveReplicaRegions")!);
        output.WriteString("ARN", result.Arn);
        WriteReplicationStatus(output, result.ReplicationStatus!);
    }

    public static void StopReplicationToReplica(OperationContext context, Utf8JsonWriter output)
    {
        var secretId = Json.String(context.Input, "SecretId")!;
        output.WriteString("ARN", context.State.Secrets.Promote(secretId).Arn);
    }

    /// <summary>AddReplicaRegions, or null when the request has none.</summary>
    private static List<ReplicaRequest>? ReplicaRequests(JsonElement input) =>
        Json.Objects(input, "AddReplicaRegions")?
            .Select(r => new ReplicaRequest(Json.String(r, "Region") ?? string.Empty, Json.String(r, "KmsKeyId")))
            .ToList();

    private static void WriteReplicationStatus(Utf8JsonWriter output, IReadOnlyList<ReplicaStatus> statuses)
    {
        output.WriteStartArray("ReplicationStatus");
        foreach (var status in statuses)
        {
            output.WriteStartObject();
            output.WriteString("Region", status.Region);
            if (status.KmsKeyId is not null)
            {
                output.WriteString("KmsKeyId", status.KmsKeyId);
            }

            output.WriteString("Status", status.Status);
            if (status.StatusMessage is not null)
            {
                output.WriteString("StatusMessage", status.StatusMessage);
            }

            if (status.LastAccessedDate is { } accessed)
            {
                Json.WriteTimestamp(output, "LastAccessedDate", accessed);
            }

            output.WriteEndObject();
        }

        output.WriteEndArray();
    }
}
