using System.Net;
using System.Text.Json;
using SecretsCache.IntegrationTests.Emulator.Support;
using SecretsCache.Testing;

namespace SecretsCache.IntegrationTests.Emulator;

/// <summary>Request bodies are checked against the AWS service models before any operation runs.</summary>
public sealed class ValidationTests
{
    [Fact]
    public async Task Missing_required_member_is_a_ValidationException()
    {
        await using var session = await EmulatorSession.StartAsync();

        var response = await session.Client.FailAsync("secretsmanager.GetSecretValue", new { VersionStage = "AWSCURRENT" }, "ValidationException");

        Assert.Equal("1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null", response.Message);
        AssertInvalid(session);
    }

    [Fact]
    public async Task Over_long_name_is_reported_without_echoing_it()
    {
        await using var session = await EmulatorSession.StartAsync();
        var name = new string('x', 2049);

        var response = await session.Client.FailAsync("secretsmanager.GetSecretValue", new { SecretId = name }, "ValidationException");

        Assert.Equal("1 validation error detected: Value at 'secretId' failed to satisfy constraint: Member must have length less than or equal to 2048", response.Message);
        Assert.DoesNotContain("xxxx", response.Raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Several_violations_are_reported_together()
    {
        await using var session = await EmulatorSession.StartAsync();

        var response = await session.Client.FailAsync("AmazonSSM.PutParameter", new { Name = "/a", Value = "v", Type = "Bogus", Tier = "Huge" }, "ValidationException");

        Assert.StartsWith("2 validation errors detected: ", response.Message, StringComparison.Ordinal);
        Assert.Contains("Value at 'type' failed to satisfy constraint: Member must satisfy enum value set: [String, StringList, SecureString]", response.Message, StringComparison.Ordinal);
        Assert.Contains("; Value at 'tier' failed to satisfy constraint", response.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_and_integer_limits_are_enforced()
    {
        await using var session = await EmulatorSession.StartAsync();

        var tooMany = await session.Client.FailAsync("AmazonSSM.GetParameters", new { Names = Enumerable.Range(0, 11).Select(i => $"/p{i}").ToArray() }, "ValidationException");
        var tooLarge = await session.Client.FailAsync("AmazonSSM.GetParametersByPath", new { Path = "/", MaxResults = 11 }, "ValidationException");
        var element = await session.Client.FailAsync("AmazonSSM.GetParameters", new { Names = new[] { "/ok", "" } }, "ValidationException");

        Assert.Contains("Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10", tooMany.Message, StringComparison.Ordinal);
        Assert.Contains("Value at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10", tooLarge.Message, StringComparison.Ordinal);
        Assert.Contains("Value at 'names.2.member' failed to satisfy constraint: Member must have length greater than or equal to 1", element.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_member_type_is_a_SerializationException()
    {
        await using var session = await EmulatorSession.StartAsync();

        var number = await session.Client.FailAsync("secretsmanager.GetSecretValue", new { SecretId = 42 }, "SerializationException");
        var text = await session.Client.FailAsync("AmazonSSM.GetParametersByPath", new { Path = "/", MaxResults = "ten" }, "SerializationException");
        var flag = await session.Client.FailAsync("AmazonSSM.GetParameter", new { Name = "/a", WithDecryption = "yes" }, "SerializationException");
        var blob = await session.Client.FailAsync("secretsmanager.CreateSecret", new { Name = "a", SecretBinary = "not base64!" }, "SerializationException");

        Assert.Equal("NUMBER_VALUE can not be converted to a String", number.Message);
        Assert.Equal("STRING_VALUE can not be converted to an Integer", text.Message);
        Assert.Equal("STRING_VALUE can not be converted to a Boolean", flag.Message);
        Assert.NotNull(blob.Message);
        Assert.Equal(4, session.Emulator.Requests.Rejected);
    }

    [Fact]
    public async Task Malformed_json_or_non_object_body_is_a_SerializationException()
    {
        await using var session = await EmulatorSession.StartAsync();

        var malformed = await session.Client.SendJsonAsync("secretsmanager.GetSecretValue", "{\"SecretId\":");
        var array = await session.Client.SendJsonAsync("secretsmanager.GetSecretValue", "[1,2]");

        Assert.Equal("SerializationException", malformed.ErrorType);
        Assert.Equal("SerializationException", array.ErrorType);
        Assert.Equal(HttpStatusCode.BadRequest, array.Status);
    }

    [Fact]
    public async Task Unknown_operation_is_an_UnknownOperationException()
    {
        await using var session = await EmulatorSession.StartAsync();

        var unknown = await session.Client.SendAsync("secretsmanager.StealSecret", new { });
        var otherService = await session.Client.SendAsync("DynamoDB_20120810.GetItem", new { }, session.Client.Signing with { Service = "dynamodb" });
        var notImplemented = await session.Client.SendAsync("AmazonSSM.DescribeParameters", new { });

        Assert.Equal("UnknownOperationException", unknown.ErrorType);
        Assert.Equal("UnknownOperationException", otherService.ErrorType);
        Assert.Equal("UnknownOperationException", notImplemented.ErrorType);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.Status);
        Assert.Equal("secretsmanager.StealSecret is not an operation of Secrets Manager.", unknown.Message);
        Assert.Equal("The X-Amz-Target header must name an operation as secretsmanager.<Operation> or AmazonSSM.<Operation>.", otherService.Message);
        Assert.Equal("The emulator does not implement AmazonSSM.DescribeParameters.", notImplemented.Message);
        Assert.All([unknown, otherService, notImplemented], r => Assert.Equal(JsonValueKind.String, r.Body.GetProperty("message").ValueKind));
        Assert.Equal(3, session.Emulator.Requests.Rejected);
        Assert.All(session.Emulator.Requests.Snapshot(), r => Assert.Equal(EmulatorOutcome.Invalid, r.Outcome));
    }

    [Fact]
    public async Task Unknown_members_are_ignored()
    {
        await using var session = await EmulatorSession.StartAsync();
        session.Emulator.CreateSecret("a", "v");

        var value = await session.Client.CallAsync("secretsmanager.GetSecretValue", new { SecretId = "a", FutureMember = true });

        Assert.Equal("v", value.GetProperty("SecretString").GetString());
    }

    private static void AssertInvalid(EmulatorSession session)
    {
        Assert.Equal(1, session.Emulator.Requests.Rejected);
        Assert.Equal(0, session.Emulator.Requests.Count("secretsmanager.GetSecretValue"));
        Assert.Equal(EmulatorOutcome.Invalid, session.Emulator.Requests.Snapshot().Single().Outcome);
    }
}
