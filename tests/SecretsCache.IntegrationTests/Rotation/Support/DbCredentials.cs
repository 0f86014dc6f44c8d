using System.Text.Json.Serialization;

namespace SecretsCache.IntegrationTests.Rotation.Support;

/// <summary>The JSON a database secret holds, in the shape Secrets Manager's rotation templates use.</summary>
public sealed record DbCredentials(
    [property: JsonPropertyName("username")] string Username,
    [property: JsonPropertyName("password")] string Password)
{
    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(this, RotationJsonContext.Default.DbCredentials);
}

[JsonSerializable(typeof(DbCredentials))]
public sealed partial class RotationJsonContext : JsonSerializerContext;
