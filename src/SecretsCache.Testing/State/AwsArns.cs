namespace SecretsCache.Testing.State;

/// <summary>ARN spelling for the emulator's region and account.</summary>
internal sealed class AwsArns(string region, string accountId)
{
    public string Region { get; } = region;

    public string AccountId { get; } = accountId;

    public string Partition { get; } =
        region.StartsWith("cn-", StringComparison.Ordinal) ? "aws-cn"
        : region.StartsWith("us-gov-", StringComparison.Ordinal) ? "aws-us-gov"
        : "aws";

    /// <summary><c>arn:aws:secretsmanager:us-east-1:123456789012:secret:</c>, followed by NAME-AbCdEf.</summary>
    public string SecretPrefix => $"arn:{Partition}:secretsmanager:{Region}:{AccountId}:secret:";

    /// <summary><c>arn:aws:ssm:us-east-1:123456789012:parameter</c>, followed by the name with a leading slash.</summary>
    public string ParameterPrefix => $"arn:{Partition}:ssm:{Region}:{AccountId}:parameter";

    public string Parameter(string name) => ParameterPrefix + (name.StartsWith('/') ? name : "/" + name);

    public string KmsKey(string keyId) => $"arn:{Partition}:kms:{Region}:{AccountId}:key/{keyId}";
}
