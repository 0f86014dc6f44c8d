namespace SecretsCache;

/// <summary>The AWS service a <see cref="SecretReference"/> is read from.</summary>
public enum SecretStore
{
    /// <summary>AWS Secrets Manager.</summary>
    SecretsManager,

    /// <summary>AWS Systems Manager Parameter Store, including the <c>/aws/reference/secretsmanager/</c> passthrough.</summary>
    ParameterStore,
}
