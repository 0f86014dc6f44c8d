using System.Net;
using SecretsCache.IntegrationTests.Emulator.Support;

namespace SecretsCache.IntegrationTests.Emulator;

/// <summary>
/// What an SDK's retry of a lost response needs, as the Secrets Manager model documents it: CreateSecret is idempotent
/// by ClientRequestToken, and a forced DeleteSecret of a missing or already deleted secret succeeds.
/// </summary>
public sealed class SecretsManagerRetrySafetyTests
{
    private const string Create = "secretsmanager.CreateSecret";
    private const string Delete = "secretsmanager.DeleteSecret";
    private const string Get = "secretsmanager.GetSecretValue";

    [Fact]
    public async Task CreateSecret_retried_with_the_same_token_and_value_answers_the_same_version()
    {
        await using var session = await EmulatorSession.StartAsync();
        var client = session.Client;
        var token = Guid.NewGuid().ToString();

        var first = await client.CallAsync(Create, new { Name = "idem", SecretString = "v", ClientRequestToken = token });
        var retried = await client.CallAsync(Create, new { Name = "idem", SecretString = "v", ClientRequestToken = token });
        var binary = await client.CallAsync(Create, new { Name = "idem-bin", SecretBinary = "AQI=", ClientRequestToken = token });
        var binaryRetried = await client.CallAsync(Create, new { Name = "idem-bin", SecretBinary = "AQI=", ClientRequestToken = token });

        Assert.Equal(first.GetProperty("ARN").GetString(), retried.GetProperty("ARN").GetString());
        Assert.Equal("idem", retried.GetProperty("Name").GetString());
        Assert.Equal(token, retried.GetProperty("VersionId").GetString());
        Assert.Equal(binary.GetProperty("ARN").GetString(), binaryRetried.GetProperty("ARN").GetString());
        Assert.Equal(token, binaryRetried.GetProperty("VersionId").GetString());
        var described = await client.CallAsync("secretsmanager.DescribeSecret", new { SecretId = "idem" });
        Assert.Equal([token], described.GetProperty("VersionIdsToStages").EnumerateObject().Select(p => p.Name));
        Assert.Equal("v", (await client.CallAsync(Get, new { SecretId = "idem" })).GetProperty("SecretString").GetString());
    }

    [Fact]
    public async Task CreateSecret_with_the_same_token_but_another_value_or_another_token_fails()
    {
        await using var session = await EmulatorSession.StartAsync();
        var client = session.Client;
        var token = Guid.NewGuid().ToString();
        await client.CallAsync(Create, new { Name = "taken", SecretString = "v", ClientRequestToken = token });

        var changed = await client.FailAsync(Create, new { Name = "taken", SecretString = "other", ClientRequestToken = token }, "ResourceExistsException");
        var asBinary = await client.FailAsync(Create, new { Name = "taken", SecretBinary = "dg==", ClientRequestToken = token }, "ResourceExistsException");
        var otherToken = await client.FailAsync(Create, new { Name = "taken", SecretString = "v", ClientRequestToken = Guid.NewGuid().ToString() }, "ResourceExistsException");

        Assert.Equal("You can't modify an existing version, you can only create a new version. Use PutSecretValue to create a new version.", changed.Message);
        Assert.Equal(changed.Message, asBinary.Message);
        Assert.Equal("The operation failed because the secret taken already exists.", otherToken.Message);
        Assert.DoesNotContain("other", changed.Raw, StringComparison.Ordinal);
        Assert.Equal("v", (await client.CallAsync(Get, new { SecretId = "taken" })).GetProperty("SecretString").GetString());
    }

    [Fact]
    public async Task CreateSecret_without_a_value_is_not_made_idempotent_by_its_token()
    {
        await using var session = await EmulatorSession.StartAsync();
        var client = session.Client;
        var token = Guid.NewGuid().ToString();
        await client.CallAsync(Create, new { Name = "empty", ClientRequestToken = token });

        await client.FailAsync(Create, new { Name = "empty", ClientRequestToken = token }, "ResourceExistsException");
    }

    [Fact]
    public async Task Forced_delete_of_a_missing_secret_succeeds()
    {
        await using var session = await EmulatorSession.StartAsync();
        var client = session.Client;

        var missing = await client.CallAsync(Delete, new { SecretId = "never-existed", ForceDeleteWithoutRecovery = true });

        Assert.Equal("never-existed", missing.GetProperty("Name").GetString());
        Assert.StartsWith("arn:aws:secretsmanager:us-east-1:123456789012:secret:never-existed", missing.GetProperty("ARN").GetString(), StringComparison.Ordinal);
        Assert.True(missing.TryGetProperty("DeletionDate", out _));
        await client.FailAsync(Delete, new { SecretId = "never-existed" }, "ResourceNotFoundException");
    }

    [Fact]
    public async Task Forced_delete_of_a_deleted_or_scheduled_secret_succeeds_and_removes_it()
    {
        await using var session = await EmulatorSession.StartAsync();
        var client = session.Client;
        var gone = session.Emulator.CreateSecret("gone", "v");
        var scheduled = session.Emulator.CreateSecret("scheduled", "v");
        await client.CallAsync(Delete, new { SecretId = "gone", ForceDeleteWithoutRecovery = true });
        await client.CallAsync(Delete, new { SecretId = "scheduled", RecoveryWindowInDays = 7 });

        var again = await client.CallAsync(Delete, new { SecretId = "gone", ForceDeleteWithoutRecovery = true });
        var byArn = await client.CallAsync(Delete, new { SecretId = gone, ForceDeleteWithoutRecovery = true });
        var forced = await client.CallAsync(Delete, new { SecretId = "scheduled", ForceDeleteWithoutRecovery = true });

        Assert.Equal("gone", again.GetProperty("Name").GetString());
        Assert.Equal(gone, byArn.GetProperty("ARN").GetString());
        Assert.Equal(scheduled, forced.GetProperty("ARN").GetString());
        await client.FailAsync(Get, new { SecretId = "scheduled" }, "ResourceNotFoundException");
        var rescheduled = await client.SendAsync(Delete, new { SecretId = "scheduled", RecoveryWindowInDays = 7 });
        Assert.Equal(HttpStatusCode.BadRequest, rescheduled.Status);
        Assert.Equal("ResourceNotFoundException", rescheduled.ErrorType);
        session.Emulator.CreateSecret("scheduled", "new");
    }

    [Fact]
    public async Task Scheduling_an_already_scheduled_secret_is_still_an_InvalidRequestException()
    {
        await using var session = await EmulatorSession.StartAsync();
        session.Emulator.CreateSecret("twice", "v");
        await session.Client.CallAsync(Delete, new { SecretId = "twice" });

        await session.Client.FailAsync(Delete, new { SecretId = "twice", RecoveryWindowInDays = 7 }, "InvalidRequestException");
    }
}
