using Npgsql;
using SecretsCache.IntegrationTests.Emulator.Support;
using SecretsCache.IntegrationTests.Rotation.Support;
using SecretsCache.Rotation;
using SecretsCache.Testing;

namespace SecretsCache.IntegrationTests.Rotation;

/// <summary>
/// Rotation against a real PostgreSQL (a private cluster, see <see cref="PostgresServer"/>) with Npgsql, the secret in the
/// emulator. The test plays the rotation function: AWSPENDING first, then ALTER ROLE, then AWSCURRENT moves.
/// </summary>
public sealed class PostgresRotationTests(PostgresServer postgres) : IClassFixture<PostgresServer>, IAsyncLifetime
{
    private const string GetSecretValue = "secretsmanager.GetSecretValue";
    private readonly string _role = "app_" + Guid.NewGuid().ToString("N")[..10];
    private readonly string _oldPassword = PostgresServer.NewPassword();
    private readonly string _newPassword = PostgresServer.NewPassword();
    private AwsEmulator _aws = null!;
    private string _oldVersion = null!;

    public async Task InitializeAsync()
    {
        _aws = await AwsEmulator.StartAsync();
        _aws.CreateSecret("app/pg", new DbCredentials(_role, _oldPassword).ToJson());
        _oldVersion = _aws.PutSecretValue("app/pg", new DbCredentials(_role, _oldPassword).ToJson());
        if (!PostgresServer.Skipped)
        {
            await postgres.ExecuteAsSuperuserAsync($"CREATE ROLE {_role} LOGIN PASSWORD '{_oldPassword}'");
        }
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await _aws.DisposeAsync();
    }

    // The provider's clock moves only when a test says so; started at the real time, its signatures suit the emulator.
    private readonly FakeTimeProvider _clock = new(TimeProvider.System.GetUtcNow());

    private SecretProvider Provider(TimeSpan? ttl = null) =>
        new(new SecretsCacheOptions { DefaultTtl = ttl ?? TimeSpan.FromMinutes(5) }.UseEmulator(_aws), timeProvider: _clock);

    [PostgresFact]
    public async Task After_a_rotation_the_next_operation_fails_with_28P01_recovers_through_the_refetch_and_succeeds()
    {
        postgres.EnsureRunning();
        using var provider = Provider();
        using var orders = new OrdersDatabase(provider, "app/pg", "127.0.0.1", postgres.Port);
        Assert.Equal(_role, await orders.WhoAmIAsync());

        var newVersion = _aws.PutSecretValue("app/pg", new DbCredentials(_role, _newPassword).ToJson(), null, "AWSPENDING");
        await postgres.ExecuteAsSuperuserAsync($"ALTER ROLE {_role} PASSWORD '{_newPassword}'");
        _aws.UpdateSecretVersionStage("app/pg", "AWSCURRENT", newVersion, _oldVersion);

        // PostgreSQL checks a password only when a session starts: the pooled session opened with the old password still
        // works. The pool opens a new one when idle sessions are pruned or the server restarts; play that here.
        NpgsqlConnection.ClearAllPools();
        _aws.Requests.Reset();

        Assert.Equal(_role, await orders.WhoAmIAsync());
        Assert.Equal(1, orders.AuthenticationFailures);          // The cached old password was refused (28P01)...
        Assert.Equal(1, _aws.Requests.Count(GetSecretValue));    // ...one re-fetch found the new AWSCURRENT...
        Assert.Equal([_oldVersion], orders.ClearedPools);        // ...whose change notification cleared the old pool.
        Assert.Equal(_role, await orders.WhoAmIAsync());
        Assert.Equal(1, orders.AuthenticationFailures);
        Assert.Equal(1, _aws.Requests.Count(GetSecretValue));
    }

    [PostgresFact]
    public async Task Between_ALTER_ROLE_and_the_stage_move_the_AWSPENDING_password_is_used()
    {
        postgres.EnsureRunning();
        using var provider = Provider(TimeSpan.FromSeconds(1));
        using var orders = new OrdersDatabase(provider, "app/pg", "127.0.0.1", postgres.Port);
        Assert.Equal(_role, await orders.WhoAmIAsync());

        var newVersion = _aws.PutSecretValue("app/pg", new DbCredentials(_role, _newPassword).ToJson(), null, "AWSPENDING");
        await postgres.ExecuteAsSuperuserAsync($"ALTER ROLE {_role} PASSWORD '{_newPassword}'");
        NpgsqlConnection.ClearAllPools(); // A new session is needed (see above).

        Assert.Equal(_role, await orders.WhoAmIAsync()); // Old password refused, AWSCURRENT unchanged, AWSPENDING accepted.
        Assert.Equal(1, orders.AuthenticationFailures);
        Assert.True(RotationState.For(provider).TryGetPin("sm:app/pg", out _));
        Assert.Equal(_role, await orders.WhoAmIAsync()); // Still in the window: straight to AWSPENDING.
        Assert.Equal(1, orders.AuthenticationFailures);

        _aws.UpdateSecretVersionStage("app/pg", "AWSCURRENT", newVersion, _oldVersion);
        _clock.Advance(TimeSpan.FromSeconds(1)); // The TTL: the next read sees the new AWSCURRENT.

        Assert.Equal(_role, await orders.WhoAmIAsync());
        Assert.False(RotationState.For(provider).TryGetPin("sm:app/pg", out _));
        Assert.Equal(1, orders.AuthenticationFailures);
        Assert.Equal([_oldVersion], orders.ClearedPools);
    }

    [PostgresFact]
    public async Task Clearing_the_pool_on_the_change_notification_closes_the_sessions_of_the_old_password()
    {
        postgres.EnsureRunning();
        using var provider = Provider();
        using var orders = new OrdersDatabase(provider, "app/pg", "127.0.0.1", postgres.Port);
        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => orders.WhoAmIAsync().AsTask()));
        Assert.InRange(await postgres.SessionsOfAsync(_role), 1, 3);

        _aws.PutSecretValue("app/pg", new DbCredentials(_role, _newPassword).ToJson());
        await postgres.ExecuteAsSuperuserAsync($"ALTER ROLE {_role} PASSWORD '{_newPassword}'");
        Assert.Equal(_role, await orders.WhoAmIAsync()); // A pooled session of the old password: no failure at all.
        Assert.Equal(0, orders.AuthenticationFailures);

        await provider.RefreshAsync("app/pg"); // Any refresh that sees the new version (TTL, refresh-ahead, forced).

        Assert.Equal([_oldVersion], orders.ClearedPools);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await postgres.SessionsOfAsync(_role) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal(0, await postgres.SessionsOfAsync(_role));
        Assert.Equal(_role, await orders.WhoAmIAsync()); // A new session, with the new password.
        Assert.Equal(0, orders.AuthenticationFailures);
    }
}
