using SecretsCache.Testing.Validation;

namespace SecretsCache.Testing.Protocol;

/// <summary>Which service an <c>X-Amz-Target</c> addresses, and the SigV4 signing name that service requires.</summary>
internal sealed record Target(string Value, string Operation, string SigningName, bool IsSecretsManager)
{
    public const string SecretsManagerPrefix = "secretsmanager.";
    public const string SsmPrefix = "AmazonSSM.";

    public ServiceModel Model => IsSecretsManager ? ServiceModel.SecretsManager : ServiceModel.Ssm;

    /// <summary>The target, or null when its prefix names neither service.</summary>
    public static Target? Parse(string value)
    {
        if (value.StartsWith(SecretsManagerPrefix, StringComparison.Ordinal))
        {
            return new Target(value, value[SecretsManagerPrefix.Length..], "secretsmanager", IsSecretsManager: true);
        }

        if (value.StartsWith(SsmPrefix, StringComparison.Ordinal))
        {
            return new Target(value, value[SsmPrefix.Length..], "ssm", IsSecretsManager: false);
        }

        return null;
    }
}
