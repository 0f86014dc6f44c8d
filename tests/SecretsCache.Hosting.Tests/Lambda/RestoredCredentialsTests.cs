using LambdaFunction;
using SecretsCache.Testing;

namespace SecretsCache.Hosting.Tests.Lambda;

/// <summary>Runs alone: it sets the process's AWS credential variables, as Lambda does after a snapshot restore.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection
{
    public const string Name = "Process environment";
}

/// <summary>
/// After a SnapStart restore Lambda puts a new session in the environment. The sample's provider signs with it once the hook
/// ran, not with the snapshot's session, which AWS (here, the emulator) no longer accepts.
/// </summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class RestoredCredentialsTests : IAsyncLifetime
{
    private static readonly string[] Variables =
        ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_EC2_METADATA_DISABLED", FunctionSettings.ServiceUrlVariable];

    private readonly Dictionary<string, string?> _saved = Variables.ToDictionary(v => v, Environment.GetEnvironmentVariable);
    private AwsEmulator _aws = null!;

    public async Task InitializeAsync() => _aws = await AwsEmulator.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var (name, value) in _saved)
        {
            Environment.SetEnvironmentVariable(name, value);
        }

        await _aws.DisposeAsync();
    }

    [Fact]
    public async Task After_the_restore_hook_the_sample_signs_with_the_session_the_restored_environment_holds()
    {
        const string KeyId = "ASIAROLESESSION00001", Secret = "role-session-secret";
        _aws.CreateSecret("fn/db", "v1");
        _aws.AddCredentials(KeyId, Secret, "snapshot-session-token");
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
        Environment.SetEnvironmentVariable("AWS_REGION", _aws.Region);
        Environment.SetEnvironmentVariable(FunctionSettings.ServiceUrlVariable, _aws.Endpoint.ToString());
        Session(KeyId, Secret, "snapshot-session-token");
        using var provider = new SecretProvider(FunctionSettings.Options());
        Assert.Equal("v1", await provider.GetStringAsync("fn/db")); // init, before the snapshot

        // Restored: the snapshot's session is no longer valid, and the environment holds the new one.
        _aws.AddCredentials(KeyId, Secret, "restored-session-token");
        Session(KeyId, Secret, "restored-session-token");
        _aws.PutSecretValue("fn/db", "v2");
        provider.OnSnapshotRestored();

        Assert.Equal("v2", (await provider.RefreshAsync("fn/db")).GetString());
        Assert.Equal(EmulatorOutcome.Ok, _aws.Requests.Snapshot()[^1].Outcome);
    }

    private static void Session(string keyId, string secret, string token)
    {
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", keyId);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", secret);
        Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", token);
    }
}
