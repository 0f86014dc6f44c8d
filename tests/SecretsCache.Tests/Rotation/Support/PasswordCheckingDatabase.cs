using System.Data.Common;

namespace SecretsCache.Tests.Rotation.Support;

/// <summary>A stand-in database: it accepts one password (or a few, during a rotation window) and refuses others with SQLSTATE 28P01.</summary>
internal sealed class PasswordCheckingDatabase
{
    private readonly object _lock = new();
    private HashSet<string> _accepted;
    private int _logins;
    private int _refusals;

    public PasswordCheckingDatabase(params string[] accepted) => _accepted = new HashSet<string>(accepted, StringComparer.Ordinal);

    public int Logins => Volatile.Read(ref _logins);

    public int Refusals => Volatile.Read(ref _refusals);

    public void Accept(params string[] passwords)
    {
        lock (_lock)
        {
            _accepted = new HashSet<string>(passwords, StringComparer.Ordinal);
        }
    }

    /// <summary>Logs in with the secret's value as the password; returns a "row count".</summary>
    public ValueTask<int> QueryAsync(Secret secret, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            if (!_accepted.Contains(secret.GetString()))
            {
                Interlocked.Increment(ref _refusals);
                throw new InvalidPasswordException();
            }
        }

        Interlocked.Increment(ref _logins);
        return ValueTask.FromResult(42);
    }
}

/// <summary>What Npgsql's PostgresException says for a wrong password, without Npgsql.</summary>
internal sealed class InvalidPasswordException : DbException
{
    public InvalidPasswordException() : base("28P01: password authentication failed for user \"app\"")
    {
    }

    public override string SqlState => "28P01";
}
