namespace SecretsCache.Testing.Operations;

/// <summary>The operations the emulator answers, by <c>X-Amz-Target</c>. Other operations of the models are validated and then refused.</summary>
internal static class OperationTable
{
    private static readonly Dictionary<string, OperationHandler> Handlers = new(StringComparer.Ordinal)
    {
        ["secretsmanager.GetSecretValue"] = SecretsManagerApi.GetSecretValue,
        ["secretsmanager.BatchGetSecretValue"] = SecretsManagerApi.BatchGetSecretValue,
        ["secretsmanager.DescribeSecret"] = SecretsManagerApi.DescribeSecret,
        ["secretsmanager.CreateSecret"] = SecretsManagerApi.CreateSecret,
        ["secretsmanager.PutSecretValue"] = SecretsManagerApi.PutSecretValue,
        ["secretsmanager.UpdateSecretVersionStage"] = SecretsManagerApi.UpdateSecretVersionStage,
        ["secretsmanager.DeleteSecret"] = SecretsManagerApi.DeleteSecret,
        ["secretsmanager.ReplicateSecretToRegions"] = SecretsManagerApi.ReplicateSecretToRegions,
        ["secretsmanager.RemoveRegionsFromReplication"] = SecretsManagerApi.RemoveRegionsFromReplication,
        ["secretsmanager.StopReplicationToReplica"] = SecretsManagerApi.StopReplicationToReplica,
        ["AmazonSSM.GetParameter"] = ParameterStoreApi.GetParameter,
        ["AmazonSSM.GetParameters"] = ParameterStoreApi.GetParameters,
        ["AmazonSSM.GetParametersByPath"] = ParameterStoreApi.GetParametersByPath,
        ["AmazonSSM.PutParameter"] = ParameterStoreApi.PutParameter,
        ["AmazonSSM.DeleteParameter"] = ParameterStoreApi.DeleteParameter,
        ["AmazonSSM.LabelParameterVersion"] = ParameterStoreApi.LabelParameterVersion,
    };

    public static OperationHandler? Find(string target) => Handlers.GetValueOrDefault(target);
}
