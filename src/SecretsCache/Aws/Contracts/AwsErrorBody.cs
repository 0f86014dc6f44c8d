using System.Text.Json.Serialization;

namespace SecretsCache.Aws.Contracts;

/// <summary>The body of an AWS JSON 1.1 error. Services spell the message <c>message</c> or <c>Message</c>.</summary>
internal sealed class AwsErrorBody
{
    [JsonPropertyName("__type")]
    public string? Type { get; init; }

    [JsonPropertyName("message")]
    public string? LowerMessage { get; init; }

    [JsonPropertyName("Message")]
    public string? UpperMessage { get; init; }

    [JsonIgnore]
    public string? Message => LowerMessage ?? UpperMessage;
}
