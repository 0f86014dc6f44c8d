using System.Text.Json.Serialization;

namespace SecretsCache.Aws.Contracts;

// Wire shapes of the Secrets Manager operations this library calls. Member names are the service model's (service-2.json);
// only the members the library uses are declared, and unknown response members are ignored.

internal sealed class GetSecretValueRequest
{
    public required string SecretId { get; init; }

    public string? VersionId { get; init; }

    public string? VersionStage { get; init; }
}

internal sealed class GetSecretValueResponse
{
    public string? ARN { get; init; }

    public string? Name { get; init; }

    public string? VersionId { get; init; }

    public string? SecretString { get; init; }

    public byte[]? SecretBinary { get; init; }

    [JsonConverter(typeof(StringListConverter))]
    public List<string>? VersionStages { get; init; }

    public double? CreatedDate { get; init; }
}

internal sealed class BatchGetSecretValueRequest
{
    public required List<string> SecretIdList { get; init; }

    public string? NextToken { get; init; }
}

internal sealed class BatchGetSecretValueResponse
{
    public List<GetSecretValueResponse>? SecretValues { get; init; }

    public List<BatchError>? Errors { get; init; }

    public string? NextToken { get; init; }
}

internal sealed class BatchError
{
    public string? SecretId { get; init; }

    public string? ErrorCode { get; init; }

    public string? Message { get; init; }
}

internal sealed class DescribeSecretRequest
{
    public required string SecretId { get; init; }
}

internal sealed class DescribeSecretResponse
{
    public string? ARN { get; init; }

    public string? Name { get; init; }

    public Dictionary<string, List<string>>? VersionIdsToStages { get; init; }

    public double? DeletedDate { get; init; }
}
