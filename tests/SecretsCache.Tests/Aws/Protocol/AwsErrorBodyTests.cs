using System.Text;
using System.Text.Json;
using SecretsCache.Aws.Contracts;

namespace SecretsCache.Tests.Aws.Protocol;

public sealed class AwsErrorBodyTests
{
    [Theory]
    [InlineData("""{"__type":"ResourceNotFoundException","Message":"Secrets Manager can't find the specified secret."}""", "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")]
    [InlineData("""{"__type":"ThrottlingException","message":"Rate exceeded"}""", "ThrottlingException", "Rate exceeded")]
    [InlineData("""{"__type":"ParameterNotFound"}""", "ParameterNotFound", null)]
    public void Both_spellings_of_the_message_are_read(string json, string type, string? message)
    {
        var body = JsonSerializer.Deserialize(Encoding.UTF8.GetBytes(json), AwsJsonContext.Default.AwsErrorBody)!;
        Assert.Equal(type, body.Type);
        Assert.Equal(message, body.Message);
    }
}
