using System.Data.Common;

namespace SecretsCache.IntegrationTests.Rotation.Support;

/// <summary>
/// A test "database": a login with the secret's username and password succeeds only if the password is one it accepts, and is
/// refused otherwise with SQLSTATE 28P01, as PostgreSQL does. <see cref="Accept"/> plays the rotation's ALTER ROLE.
/// </summary>
internal sealed class PasswordCheckingDatabase
{
    private readonly object _lock = new();
    private HashSet<string> _accepted;
    private int _logins;
    private int _refusals;

    public PasswordCheckingDatabase(params string[] accepted) => _accepted = new HashSet<string>(accepted, StringComparer.Ordinal);

    public int Logins => Volatile.Read(ref _logins);

    public int Refusals => Volatile.Read(ref _refusals);

    /// <summary>Called before each login check; a test may hold logins here.</summary>
    public Func<DbCredentials, Task>? BeforeLogin { get; set; }

    public void Accept(params string[] passwords)
    {
        lock (_lock)
        {
            _accepted = new HashSet<string>(passwords, StringComparer.Ordinal);
        }
    }

    /// <summary>Logs in with the credentials in <paramref name="secret"/> and runs a "query".</summary>
    public async ValueTask<string> QueryAsync(Secret secret, CancellationToken cancellationToken = default)
    {
        var credentials = secret.GetJson(RotationJsonContext.Default.DbCredentials);
        if (BeforeLogin is { } before)
        {
            await before(credentials);
        }

        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            if (!_accepted.Contains(credentials.Password))
            {
                Interlocked.Increment(ref _refusals);
                throw new InvalidPasswordException(credentials.Username);
            }
        }

        Interlocked.Increment(ref _logins);
        return $"rows for {credentials.Username}";
    }
}

/// <summary>A driver-free stand-in for Npgsql's PostgresException with SQLSTATE 28P01 (invalid_password).</summary>
internal sealed class InvalidPasswordException(string user) : DbException($"28P01: password authentication failed for user \"{user}\"")
{
    public override string SqlState => "28P01";
}
