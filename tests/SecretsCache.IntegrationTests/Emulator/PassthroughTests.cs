using System.Text.Json;
using SecretsCache.IntegrationTests.Emulator.Support;

namespace SecretsCache.IntegrationTests.Emulator;

/// <summary>Parameter Store's <c>/aws/reference/secretsmanager/</c> read-through to Secrets Manager.</summary>
public sealed class PassthroughTests
{
    private const string Get = "AmazonSSM.GetParameter";
    private const string Reference = "/aws/reference/secretsmanager/";

    [Fact]
    public async Task Reads_the_current_secret_as_a_SecureString_parameter()
    {
        await using var session = await EmulatorSession.StartAsync();
        var arn = session.Emulator.CreateSecret("app/db", "{\"user\":\"u\"}");

        var parameter = (await session.Client.CallAsync(Get, new { Name = Reference + "app/db", WithDecryption = true })).GetProperty("Parameter");

        Assert.Equal(Reference + "app/db", parameter.GetProperty("Name").GetString());
        Assert.Equal("SecureString", parameter.GetProperty("Type").GetString());
        Assert.Equal("{\"user\":\"u\"}", parameter.GetProperty("Value").GetString());
        Assert.Equal(0, parameter.GetProperty("Version").GetInt64());
        Assert.Equal(arn, parameter.GetProperty("ARN").GetString());
        Assert.False(parameter.TryGetProperty("Selector", out _));
        using var source = JsonDocument.Parse(parameter.GetProperty("SourceResult").GetString()!);
        Assert.Equal(arn, source.RootElement.GetProperty("ARN").GetString());
        Assert.Equal("app/db", source.RootElement.GetProperty("Name").GetString());
        Assert.Equal(JsonValueKind.Object, source.RootElement.GetProperty("VersionIdsToStages").ValueKind);
        Assert.Equal(1, session.Emulator.Requests.Count(Get));
        Assert.Equal(0, session.Emulator.Requests.Count("secretsmanager.GetSecretValue"));
    }

    [Fact]
    public async Task Selectors_pick_a_stage_or_a_version_id()
    {
        await using var session = await EmulatorSession.StartAsync();
        session.Emulator.CreateSecret("rot", "old");
        var current = session.Emulator.PutSecretValue("rot", "new");

        var previous = (await session.Client.CallAsync(Get, new { Name = Reference + "rot:AWSPREVIOUS", WithDecryption = true })).GetProperty("Parameter");
        var byId = (await session.Client.CallAsync(Get, new { Name = $"{Reference}rot:{current}", WithDecryption = true })).GetProperty("Parameter");

        Assert.Equal("old", previous.GetProperty("Value").GetString());
        Assert.Equal(":AWSPREVIOUS", previous.GetProperty("Selector").GetString());
        Assert.Equal(Reference + "rot", previous.GetProperty("Name").GetString());
        Assert.Equal("new", byId.GetProperty("Value").GetString());
        Assert.Equal(":" + current, byId.GetProperty("Selector").GetString());
        await session.Client.FailAsync(Get, new { Name = Reference + "rot:AWSPENDING", WithDecryption = true }, "ParameterVersionNotFound");
    }

    [Fact]
    public async Task Requires_WithDecryption()
    {
        await using var session = await EmulatorSession.StartAsync();
        session.Emulator.CreateSecret("s", "v");

        var single = await session.Client.FailAsync(Get, new { Name = Reference + "s" }, "ValidationException");
        var many = await session.Client.FailAsync("AmazonSSM.GetParameters", new { Names = new[] { Reference + "s" }, WithDecryption = false }, "ValidationException");

        Assert.Equal("WithDecryption flag must be True for retrieving a Secret Manager secret.", single.Message);
        Assert.Equal(single.Message, many.Message);
    }

    [Fact]
    public async Task Missing_secret_is_ParameterNotFound_and_paths_are_refused()
    {
        await using var session = await EmulatorSession.StartAsync();
        session.Emulator.CreateSecret("s", "v");

        await session.Client.FailAsync(Get, new { Name = Reference + "nope", WithDecryption = true }, "ParameterNotFound");
        var many = await session.Client.CallAsync("AmazonSSM.GetParameters", new { Names = new[] { Reference + "s", Reference + "nope" }, WithDecryption = true });
        await session.Client.FailAsync("AmazonSSM.GetParametersByPath", new { Path = "/aws/reference/secretsmanager", WithDecryption = true }, "ValidationException");

        Assert.Equal("v", many.GetProperty("Parameters")[0].GetProperty("Value").GetString());
        Assert.Equal([Reference + "nope"], many.GetProperty("InvalidParameters").EnumerateArray().Select(n => n.GetString()));
    }

    [Fact]
    public async Task Accepts_the_secret_arn_and_honours_access_rules()
    {
        await using var session = await EmulatorSession.StartAsync();
        var arn = session.Emulator.CreateSecret("by-arn", "v");
        session.Emulator.CreateSecret("denied", "v");
        session.Emulator.DenyAccess("denied");

        var byArn = (await session.Client.CallAsync(Get, new { Name = Reference + arn + ":AWSCURRENT", WithDecryption = true })).GetProperty("Parameter");
        await session.Client.FailAsync(Get, new { Name = Reference + "denied", WithDecryption = true }, "AccessDeniedException");

        Assert.Equal("v", byArn.GetProperty("Value").GetString());
        Assert.Equal(":AWSCURRENT", byArn.GetProperty("Selector").GetString());
    }
}
