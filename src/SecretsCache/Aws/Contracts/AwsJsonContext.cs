using System.Text.Json.Serialization;

namespace SecretsCache.Aws.Contracts;

/// <summary>Source-generated serialization for every wire shape: no reflection, so trimming and Native AOT are safe.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.Unspecified,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNameCaseInsensitive = false,
    GenerationMode = JsonSourceGenerationMode.Default)]
[JsonSerializable(typeof(GetSecretValueRequest))]
[JsonSerializable(typeof(GetSecretValueResponse))]
[JsonSerializable(typeof(BatchGetSecretValueRequest))]
[JsonSerializable(typeof(BatchGetSecretValueResponse))]
[JsonSerializable(typeof(DescribeSecretRequest))]
[JsonSerializable(typeof(DescribeSecretResponse))]
[JsonSerializable(typeof(GetParameterRequest))]
[JsonSerializable(typeof(GetParameterResult))]
[JsonSerializable(typeof(GetParametersRequest))]
[JsonSerializable(typeof(GetParametersResult))]
[JsonSerializable(typeof(GetParametersByPathRequest))]
[JsonSerializable(typeof(GetParametersByPathResult))]
[JsonSerializable(typeof(AwsErrorBody))]
internal sealed partial class AwsJsonContext : JsonSerializerContext;
