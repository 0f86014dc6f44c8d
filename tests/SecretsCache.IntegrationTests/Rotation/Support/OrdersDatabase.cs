using System.Collections.Concurrent;
using Npgsql;

namespace SecretsCache.IntegrationTests.Rotation.Support;

/// <summary>
/// The application side of the PostgreSQL scenario, written the way docs/rotation.md recommends: every unit of work runs inside
/// <c>ExecuteAsync</c> with a connection string built from the secret, and when the secret changes, the pool of the old
/// credential is cleared so its sessions do not linger.
/// </summary>
internal sealed class OrdersDatabase : IDisposable
{
    private readonly ISecretProvider _secrets;
    private readonly string _reference;
    private readonly string _host;
    private readonly int _port;
    private readonly RotationOptions _rotation;
    private readonly ConcurrentDictionary<string, string> _connectionStrings = new(StringComparer.Ordinal); // Version -> connection string.
    private int _authenticationFailures;

    public OrdersDatabase(ISecretProvider secrets, string reference, string host, int port, RotationOptions? rotation = null)
    {
        _secrets = secrets;
        _reference = reference;
        _host = host;
        _port = port;
        _rotation = rotation ?? new RotationOptions { IsAuthenticationFailure = AuthenticationFailurePredicates.PostgreSql };
        _secrets.SecretChanged += OnSecretChanged;
    }

    /// <summary>How many times opening a connection failed authentication (what ExecuteAsync recovered from).</summary>
    public int AuthenticationFailures => Volatile.Read(ref _authenticationFailures);

    /// <summary>The versions whose pools were cleared because the secret changed.</summary>
    public ConcurrentQueue<string> ClearedPools { get; } = new();

    /// <summary>Who the server says we are.</summary>
    public ValueTask<string> WhoAmIAsync(CancellationToken cancellationToken = default) =>
        _secrets.ExecuteAsync(_reference, async (secret, ct) =>
        {
            await using var connection = new NpgsqlConnection(ConnectionString(secret));
            try
            {
                await connection.OpenAsync(ct);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InvalidPassword)
            {
                Interlocked.Increment(ref _authenticationFailures);
                throw;
            }

            await using var command = new NpgsqlCommand("SELECT current_user", connection);
            return (string)(await command.ExecuteScalarAsync(ct))!;
        }, _rotation, cancellationToken);

    public void Dispose() => _secrets.SecretChanged -= OnSecretChanged;

    private string ConnectionString(Secret secret) =>
        _connectionStrings.GetOrAdd(secret.Version ?? string.Empty, static (_, state) =>
        {
            var credentials = state.Secret.GetJson(RotationJsonContext.Default.DbCredentials);
            return new NpgsqlConnectionStringBuilder
            {
                Host = state.Self._host,
                Port = state.Self._port,
                Database = "postgres",
                Username = credentials.Username,
                Password = credentials.Password,
            }.ConnectionString;
        }, (Secret: secret, Self: this));

    private void OnSecretChanged(object? sender, SecretChangedEventArgs e)
    {
        if (!e.IsFor(_reference) || e.OldVersion is null || !_connectionStrings.TryRemove(e.OldVersion, out var old))
        {
            return;
        }

        // Sessions opened with the old password stay authenticated: close the idle ones now rather than keep them forever.
        using var connection = new NpgsqlConnection(old);
        NpgsqlConnection.ClearPool(connection);
        ClearedPools.Enqueue(e.OldVersion);
    }
}
