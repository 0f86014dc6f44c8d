using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using SecretsCache.IntegrationTests.Emulator.Support;
using SecretsCache.Testing;

namespace SecretsCache.IntegrationTests.Emulator;

public sealed class SecretsManagerTests
{
    private const string Get = "secretsmanager.GetSecretValue";

    [Fact]
    public async Task GetSecretValue_by_name_full_arn_and_partial_arn()
    {
        await using var session = await EmulatorSession.StartAsync();
        var arn = session.Emulator.CreateSecret("app/db", "{\"password\":\"p\"}");

        Assert.Matches(new Regex("^arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-[A-Za-z0-9]{6}$"), arn);
        foreach (var id in new[] { "app/db", arn, arn[..^7] })
        {
            var value = await session.Client.CallAsync(Get, new { SecretId = id });
            Assert.Equal(arn, value.GetProperty("ARN").GetString());
            Assert.Equal("app/db", value.GetProperty("Name").GetString());
            Assert.Equal("{\"password\":\"p\"}", value.GetProperty("SecretString").GetString());
            Assert.Equal(["AWSCURRENT"], Stages(value));
            Assert.True(Guid.TryParse(value.GetProperty("VersionId").GetString(), out _));
            Assert.Equal(JsonValueKind.Number, value.GetProperty("CreatedDate").ValueKind);
            Assert.False(value.TryGetProperty("SecretBinary", out _));
        }

        Assert.Equal(3, session.Emulator.Requests.Count(Get));
    }

    [Fact]
    public async Task Binary_secrets_are_base64_in_json()
    {
        await using var session = await EmulatorSession.StartAsync();
        session.Emulator.CreateSecret("cert", secretBinary: [1, 2, 3, 255]);

        var value = await session.Client.CallAsync(Get, new { SecretId = "cert" });

        Assert.Equal([1, 2, 3, 255], value.GetProperty("SecretBinary").GetBytesFromBase64());
        Assert.False(value.TryGetProperty("SecretString", out _));
    }

    [Fact]
    public async Task Missing_secret_version_and_stage_are_ResourceNotFoundException()
    {
        await using var session = await EmulatorSession.StartAsync();
        session.Emulator.CreateSecret("empty");

        var missing = await session.Client.FailAsync(Get, new { SecretId = "nope" }, "ResourceNotFoundException");
        var noValue = await session.Client.FailAsync(Get, new { SecretId = "empty" }, "ResourceNotFoundException");
        var stage = await session.Client.FailAsync(Get, new { SecretId = "empty", VersionStage = "AWSPENDING" }, "ResourceNotFoundException");
        var wrongAccount = await session.Client.FailAsync(Get, new { SecretId = "arn:aws:secretsmanager:us-east-1:000000000000:secret:empty" }, "ResourceNotFoundException");

        Assert.Equal("Secrets Manager can't find the specified secret.", missing.Message);
        Assert.Equal("Secrets Manager can't find the specified secret value for staging label: AWSCURRENT", noValue.Message);
        Assert.Equal("Secrets Manager can't find the specified secret value for staging label: AWSPENDING", stage.Message);
        Assert.Equal("Secrets Manager can't find the specified secret.", wrongAccount.Message);
        Assert.True(missing.Body.TryGetProperty("Message", out _), "Secrets Manager spells its message member 'Message'.");
        Assert.All(session.Emulator.Requests.Snapshot(), r => Assert.Equal(EmulatorOutcome.NotFound, r.Outcome));
    }

    [Fact]
    public async Task Full_rotation_moves_stages_like_AWS()
    {
        await using var session = await EmulatorSession.StartAsync();
        var client = session.Client;
        var created = await client.CallAsync("secretsmanager.CreateSecret", new { Name = "rotating", SecretString = "v1", ClientRequestToken = "11111111-1111-1111-1111-111111111111" });
        var v1 = created.GetProperty("VersionId").GetString();
        Assert.Equal("11111111-1111-1111-1111-111111111111", v1);

        var pending = await client.CallAsync("secretsmanager.PutSecretValue", new { SecretId = "rotating", SecretString = "v2", VersionStages = new[] { "AWSPENDING" } });
        var v2 = pending.GetProperty("VersionId").GetString()!;
        Assert.Equal(["AWSPENDING"], Stages(pending));
        Assert.Equal("v1", (await client.CallAsync(Get, new { SecretId = "rotating" })).GetProperty("SecretString").GetString());
        Assert.Equal("v2", (await client.CallAsync(Get, new { SecretId = "rotating", VersionStage = "AWSPENDING" })).GetProperty("SecretString").GetString());

        // Moving AWSCURRENT must name the version it leaves.
        var refused = await client.FailAsync("secretsmanager.UpdateSecretVersionStage", new { SecretId = "rotating", VersionStage = "AWSCURRENT", MoveToVersionId = v2 }, "InvalidParameterException");
        Assert.Contains("RemoveFromVersionId", refused.Message, StringComparison.Ordinal);
        await client.CallAsync("secretsmanager.UpdateSecretVersionStage", new { SecretId = "rotating", VersionStage = "AWSCURRENT", MoveToVersionId = v2, RemoveFromVersionId = v1 });
        await client.CallAsync("secretsmanager.UpdateSecretVersionStage", new { SecretId = "rotating", VersionStage = "AWSPENDING", RemoveFromVersionId = v2 });

        var current = await client.CallAsync(Get, new { SecretId = "rotating" });
        var previous = await client.CallAsync(Get, new { SecretId = "rotating", VersionStage = "AWSPREVIOUS" });
        Assert.Equal("v2", current.GetProperty("SecretString").GetString());
        Assert.Equal(["AWSCURRENT"], Stages(current));
        Assert.Equal(v1, previous.GetProperty("VersionId").GetString());
        Assert.Equal(["AWSPREVIOUS"], Stages(previous));
        Assert.Equal("v1", (await client.CallAsync(Get, new { SecretId = "rotating", VersionId = v1 })).GetProperty("SecretString").GetString());

        var described = await client.CallAsync("secretsmanager.DescribeSecret", new { SecretId = "rotating" });
        var map = described.GetProperty("VersionIdsToStages");
        Assert.Equal(["AWSCURRENT"], map.GetProperty(v2).EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(["AWSPREVIOUS"], map.GetProperty(v1!).EnumerateArray().Select(s => s.GetString()));
    }

    [Fact]
    public async Task New_current_value_shifts_previous_and_drops_the_oldest_label()
    {
        await using var session = await EmulatorSession.StartAsync();
        session.Emulator.CreateSecret("s", "v1");
        var v2 = session.Emulator.PutSecretValue("s", "v2");
        var v3 = session.Emulator.PutSecretValue("s", "v3");

        var described = await session.Client.CallAsync("secretsmanager.DescribeSecret", new { SecretId = "s" });
        var map = described.GetProperty("VersionIdsToStages");

        Assert.Equal(2, map.EnumerateObject().Count()); // v1 is deprecated: no labels, not listed
        Assert.Equal("AWSCURRENT", map.GetProperty(v3)[0].GetString());
        Assert.Equal("AWSPREVIOUS", map.GetProperty(v2)[0].GetString());
        Assert.Equal(JsonValueKind.Number, described.GetProperty("LastChangedDate").ValueKind);
    }

    [Fact]
    public async Task Staging_label_errors()
    {
        await using var session = await EmulatorSession.StartAsync();
        session.Emulator.CreateSecret("s", "v1");
        var v2 = session.Emulator.PutSecretValue("s", "v2", null, "AWSPENDING");

        var v1 = (await session.Client.CallAsync(Get, new { SecretId = "s" })).GetProperty("VersionId").GetString();
        var removeCurrent = await session.Client.FailAsync("secretsmanager.UpdateSecretVersionStage", new { SecretId = "s", VersionStage = "AWSCURRENT", RemoveFromVersionId = v1 }, "InvalidParameterException");
        var wrongHolder = await session.Client.FailAsync("secretsmanager.UpdateSecretVersionStage", new { SecretId = "s", VersionStage = "AWSPENDING", RemoveFromVersionId = Guid.NewGuid().ToString() }, "InvalidParameterException");
        var unknownTarget = await session.Client.FailAsync("secretsmanager.UpdateSecretVersionStage", new { SecretId = "s", VersionStage = "AWSCURRENT", MoveToVersionId = Guid.NewGuid().ToString() }, "InvalidParameterException");
        var byId = await session.Client.FailAsync(Get, new { SecretId = "s", VersionId = v2, VersionStage = "AWSCURRENT" }, "ResourceNotFoundException");

        Assert.Contains("AWSCURRENT", removeCurrent.Message, StringComparison.Ordinal);
        Assert.NotNull(wrongHolder.Message);
        Assert.NotNull(unknownTarget.Message);
        Assert.Contains(v2, byId.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateSecret_and_PutSecretValue_errors()
    {
        await using var session = await EmulatorSession.StartAsync();
        var client = session.Client;
        await client.CallAsync("secretsmanager.CreateSecret", new { Name = "dup", SecretString = "a" });

        await client.FailAsync("secretsmanager.CreateSecret", new { Name = "dup", SecretString = "b" }, "ResourceExistsException");
        await client.FailAsync("secretsmanager.CreateSecret", new { Name = "both", SecretString = "a", SecretBinary = "AQI=" }, "InvalidParameterException");
        await client.FailAsync("secretsmanager.CreateSecret", new { Name = "bad name!" }, "InvalidParameterException");
        await client.FailAsync("secretsmanager.PutSecretValue", new { SecretId = "dup" }, "InvalidParameterException");
        await client.FailAsync("secretsmanager.PutSecretValue", new { SecretId = "missing", SecretString = "x" }, "ResourceNotFoundException");

        var token = Guid.NewGuid().ToString();
        var first = await client.CallAsync("secretsmanager.PutSecretValue", new { SecretId = "dup", SecretString = "x", ClientRequestToken = token });
        var retried = await client.CallAsync("secretsmanager.PutSecretValue", new { SecretId = "dup", SecretString = "x", ClientRequestToken = token });
        await client.FailAsync("secretsmanager.PutSecretValue", new { SecretId = "dup", SecretString = "changed", ClientRequestToken = token }, "ResourceExistsException");
        Assert.Equal(token, first.GetProperty("VersionId").GetString());
        Assert.Equal(token, retried.GetProperty("VersionId").GetString());
        Assert.Throws<InvalidOperationException>(() => session.Emulator.CreateSecret("dup", "again"));
    }

    [Fact]
    public async Task DeleteSecret_marks_for_deletion_or_removes_at_once()
    {
        var time = new FakeTimeProvider();
        await using var session = await EmulatorSession.StartAsync(new AwsEmulatorOptions { TimeProvider = time });
        var client = session.Client;
        session.Emulator.CreateSecret("soft", "v");
        session.Emulator.CreateSecret("hard", "v");

        var deleted = await client.CallAsync("secretsmanager.DeleteSecret", new { SecretId = "soft", RecoveryWindowInDays = 7 });
        Assert.Equal(time.GetUtcNow().AddDays(7).ToUnixTimeSeconds(), deleted.GetProperty("DeletionDate").GetDecimal());
        var marked = await client.FailAsync(Get, new { SecretId = "soft" }, "InvalidRequestException");
        Assert.Contains("marked for deletion", marked.Message, StringComparison.Ordinal);
        var described = await client.CallAsync("secretsmanager.DescribeSecret", new { SecretId = "soft" });
        Assert.True(described.TryGetProperty("DeletedDate", out _));

        await client.CallAsync("secretsmanager.DeleteSecret", new { SecretId = "hard", ForceDeleteWithoutRecovery = true });
        await client.FailAsync(Get, new { SecretId = "hard" }, "ResourceNotFoundException");
        await client.FailAsync("secretsmanager.DeleteSecret", new { SecretId = "soft", RecoveryWindowInDays = 3 }, "InvalidParameterException");
        await client.FailAsync("secretsmanager.DeleteSecret", new { SecretId = "x", RecoveryWindowInDays = 7, ForceDeleteWithoutRecovery = true }, "InvalidParameterException");

        time.Advance(TimeSpan.FromDays(7));
        await client.FailAsync(Get, new { SecretId = "soft" }, "ResourceNotFoundException");
    }

    [Fact]
    public async Task Seeded_delete_follows_the_same_rules()
    {
        await using var session = await EmulatorSession.StartAsync();
        session.Emulator.CreateSecret("a", "v");
        session.Emulator.CreateSecret("b", "v");

        session.Emulator.DeleteSecret("a");
        session.Emulator.DeleteSecret("b", forceDeleteWithoutRecovery: true);

        await session.Client.FailAsync(Get, new { SecretId = "a" }, "InvalidRequestException");
        await session.Client.FailAsync(Get, new { SecretId = "b" }, "ResourceNotFoundException");
    }

    [Fact]
    public async Task DenyAccess_and_FailDecryption()
    {
        await using var session = await EmulatorSession.StartAsync();
        session.Emulator.CreateSecret("denied", "v");
        var arn = session.Emulator.CreateSecret("locked", "v");
        session.Emulator.DenyAccess("denied");
        session.Emulator.FailDecryption(arn);

        var denied = await session.Client.FailAsync(Get, new { SecretId = "denied" }, "AccessDeniedException");
        await session.Client.FailAsync("secretsmanager.DescribeSecret", new { SecretId = "denied" }, "AccessDeniedException");
        var locked = await session.Client.FailAsync(Get, new { SecretId = "locked" }, "DecryptionFailure");
        await session.Client.CallAsync("secretsmanager.DescribeSecret", new { SecretId = "locked" });

        Assert.Contains("is not authorized to perform: secretsmanager:GetSecretValue", denied.Message, StringComparison.Ordinal);
        Assert.Equal("Secrets Manager can't decrypt the protected secret text using the provided KMS key.", locked.Message);
        Assert.Contains(session.Emulator.Requests.Snapshot(), r => r.Outcome == EmulatorOutcome.AccessDenied);

        session.Emulator.RestoreAccess("denied");
        session.Emulator.RestoreAccess("locked");
        await session.Client.CallAsync(Get, new { SecretId = "denied" });
        await session.Client.CallAsync(Get, new { SecretId = "locked" });
    }

    [Fact]
    public async Task BatchGetSecretValue_reports_partial_failures_per_id()
    {
        await using var session = await EmulatorSession.StartAsync();
        session.Emulator.CreateSecret("a", "va");
        session.Emulator.CreateSecret("b", "vb");
        session.Emulator.CreateSecret("denied", "x");
        session.Emulator.CreateSecret("locked", "x");
        session.Emulator.DenyAccess("denied");
        session.Emulator.FailDecryption("locked");

        var result = await session.Client.CallAsync("secretsmanager.BatchGetSecretValue", new { SecretIdList = new[] { "a", "missing", "b", "denied", "locked" } });

        Assert.Equal(["va", "vb"], result.GetProperty("SecretValues").EnumerateArray().Select(v => v.GetProperty("SecretString").GetString()));
        var errors = result.GetProperty("Errors").EnumerateArray().ToDictionary(e => e.GetProperty("SecretId").GetString()!, e => e.GetProperty("ErrorCode").GetString());
        Assert.Equal("ResourceNotFoundException", errors["missing"]);
        Assert.Equal("AccessDeniedException", errors["denied"]);
        Assert.Equal("DecryptionFailure", errors["locked"]);
        Assert.All(result.GetProperty("Errors").EnumerateArray(), e => Assert.False(string.IsNullOrEmpty(e.GetProperty("Message").GetString())));
        await session.Client.FailAsync("secretsmanager.BatchGetSecretValue", new { SecretIdList = Enumerable.Range(0, 21).Select(i => $"s{i}").ToArray() }, "ValidationException");
        await session.Client.FailAsync("secretsmanager.BatchGetSecretValue", new { }, "InvalidParameterException");
    }

    [Fact]
    public async Task BatchGetSecretValue_with_filters_pages()
    {
        await using var session = await EmulatorSession.StartAsync();
        foreach (var name in new[] { "app/a", "app/b", "app/c", "other/d" })
        {
            session.Emulator.CreateSecret(name, name);
        }

        var filter = new[] { new { Key = "name", Values = new[] { "app/" } } };
        var first = await session.Client.CallAsync("secretsmanager.BatchGetSecretValue", new { Filters = filter, MaxResults = 2 });
        var second = await session.Client.CallAsync("secretsmanager.BatchGetSecretValue", new { Filters = filter, MaxResults = 2, NextToken = first.GetProperty("NextToken").GetString() });

        Assert.Equal(["app/a", "app/b"], first.GetProperty("SecretValues").EnumerateArray().Select(v => v.GetProperty("Name").GetString()));
        Assert.Equal(["app/c"], second.GetProperty("SecretValues").EnumerateArray().Select(v => v.GetProperty("Name").GetString()));
        Assert.False(second.TryGetProperty("NextToken", out _));
        await session.Client.FailAsync("secretsmanager.BatchGetSecretValue", new { Filters = filter, NextToken = "garbage" }, "InvalidNextTokenException");
    }

    [Fact]
    public async Task Written_over_http_and_read_back()
    {
        await using var session = await EmulatorSession.StartAsync();

        var created = await session.Client.CallAsync("secretsmanager.CreateSecret", new { Name = "http", SecretString = "one", Description = "d", Tags = new[] { new { Key = "team", Value = "core" } } });
        var put = await session.Client.CallAsync("secretsmanager.PutSecretValue", new { SecretId = created.GetProperty("ARN").GetString(), SecretString = "two" });
        var described = await session.Client.CallAsync("secretsmanager.DescribeSecret", new { SecretId = "http" });

        Assert.Equal(["AWSCURRENT"], Stages(put));
        Assert.Equal("d", described.GetProperty("Description").GetString());
        Assert.Equal("team", described.GetProperty("Tags")[0].GetProperty("Key").GetString());
        var v3 = session.Emulator.PutSecretValue("http", "three");
        Assert.NotEqual(put.GetProperty("VersionId").GetString(), v3);
        Assert.Equal("three", (await session.Client.CallAsync(Get, new { SecretId = "http" })).GetProperty("SecretString").GetString());
    }

    private static string[] Stages(JsonElement value) =>
        value.GetProperty("VersionStages").EnumerateArray().Select(s => s.GetString()!).ToArray();
}
