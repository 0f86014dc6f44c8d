using SecretsCache.TestSupport;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;

namespace SecretsCache.IntegrationTests.Rotation.Support;

/// <summary>
/// A private PostgreSQL cluster for one test class: <c>initdb</c> into a temp folder, <c>pg_ctl start</c> on 127.0.0.1 and a free
/// port with scram-sha-256 password authentication, <c>pg_ctl stop -m fast</c> and the folder deleted at the end. As root, the
/// server runs as the <c>postgres</c> user (PostgreSQL refuses to run as root). If the binaries are missing the tests fail with
/// a message saying so; they are skipped only when <c>SECRETSCACHE_SKIP_POSTGRES=1</c>.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    public const string SkipVariable = "SECRETSCACHE_SKIP_POSTGRES";
    public const string BinVariable = "SECRETSCACHE_POSTGRES_BIN"; // A folder with initdb and pg_ctl, where they are not under /usr/lib/postgresql.
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(2);

    private string? _root;
    private string? _bin;
    private bool _started;
    private string? _unavailable;

    public static bool Skipped => Environment.GetEnvironmentVariable(SkipVariable) == "1";

    public int Port { get; private set; }

    public string SuperuserPassword { get; } = NewPassword();

    private string DataDirectory => Path.Combine(_root!, "data");

    private string LogFile => Path.Combine(_root!, "server.log");

    private static bool IsRoot => Environment.UserName == "root";

    public async Task InitializeAsync()
    {
        if (Skipped)
        {
            return;
        }

        try
        {
            await StartAsync();
        }
        catch (Exception ex)
        {
            _unavailable = ex.Message;
        }
    }

    /// <summary>Fails the calling test, with what went wrong and how to fix it, when the server could not be started.</summary>
    public void EnsureRunning()
    {
        if (_unavailable is not null)
        {
            throw new InvalidOperationException(
                $"The PostgreSQL rotation tests need PostgreSQL server binaries (initdb, pg_ctl under /usr/lib/postgresql/*/bin, or in {BinVariable}): "
                + $"{_unavailable} Run scripts/setup-postgres.sh (it installs the Debian package 'postgresql'), or set {SkipVariable}=1 to skip these tests.");
        }
    }

    /// <summary>A connection string for <paramref name="user"/> on this server.</summary>
    public string ConnectionString(string user, string password, bool pooling = true) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Database = "postgres",
        Username = user,
        Password = password,
        Pooling = pooling,
        Timeout = 30,
    }.ConnectionString;

    /// <summary>Runs SQL as the superuser, on a connection of its own (no pool).</summary>
    public async Task<object?> ExecuteAsSuperuserAsync(string sql)
    {
        EnsureRunning();
        await using var connection = new NpgsqlConnection(ConnectionString("postgres", SuperuserPassword, pooling: false));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    /// <summary>How many sessions <paramref name="user"/> has open on the server.</summary>
    public async Task<long> SessionsOfAsync(string user) =>
        (long)(await ExecuteAsSuperuserAsync($"SELECT count(*) FROM pg_stat_activity WHERE usename = '{user}'"))!;

    /// <summary>A random password of letters and digits, safe to put in SQL literals.</summary>
    public static string NewPassword() => "p" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();

    public async Task DisposeAsync()
    {
        if (_started)
        {
            try
            {
                await RunAsync("pg_ctl", "-D", DataDirectory, "stop", "-m", "fast", "-w", "-t", "60");
            }
            catch (Exception)
            {
                // Best effort: a server left running in a deleted folder exits on its own once its files are gone.
            }
        }

        if (_root is not null && Directory.Exists(_root))
        {
            try
            {
                Directory.Delete(_root, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    private async Task StartAsync()
    {
        _bin = FindBinaries() ?? throw new InvalidOperationException(
            $"no PostgreSQL server binaries were found in {Environment.GetEnvironmentVariable(BinVariable) ?? "/usr/lib/postgresql/*/bin"}.");
        _root = Path.Combine(Path.GetTempPath(), "secretscache-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_root);
        var passwordFile = Path.Combine(_root, "superuser-password");
        await File.WriteAllTextAsync(passwordFile, SuperuserPassword);
        if (IsRoot)
        {
            await RunProcessAsync("chown", ["-R", "postgres:postgres", _root]);
        }

        await RunAsync("initdb", "-D", DataDirectory, "-U", "postgres", "--pwfile", passwordFile, "-E", "UTF8", "--locale=C",
            "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync");
        File.Delete(passwordFile);

        // Only TCP on 127.0.0.1 with SCRAM passwords (and the server's own socket in the temp folder, trusted, for pg_ctl).
        await File.WriteAllTextAsync(Path.Combine(DataDirectory, "pg_hba.conf"), """
            local   all   all                 trust
            host    all   all   127.0.0.1/32  scram-sha-256
            """);

        Port = FreePort();
        var serverOptions = string.Join(' ',
            $"-p {Port.ToString(CultureInfo.InvariantCulture)}",
            "-c listen_addresses=127.0.0.1",
            $"-c unix_socket_directories={_root}",
            "-c password_encryption=scram-sha-256",
            "-c fsync=off",
            "-c max_connections=200");
        await RunAsync("pg_ctl", "-D", DataDirectory, "-l", LogFile, "-o", serverOptions, "-w", "-t", "60", "start");
        _started = true;
    }

    private static string? FindBinaries()
    {
        if (Environment.GetEnvironmentVariable(BinVariable) is { Length: > 0 } configured)
        {
            return File.Exists(Path.Combine(configured, "initdb")) && File.Exists(Path.Combine(configured, "pg_ctl")) ? configured : null;
        }

        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root))
        {
            return null;
        }

        return Directory.GetDirectories(root)
            .Select(d => (Dir: Path.Combine(d, "bin"), Version: double.TryParse(Path.GetFileName(d), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : 0))
            .Where(c => File.Exists(Path.Combine(c.Dir, "initdb")) && File.Exists(Path.Combine(c.Dir, "pg_ctl")))
            .OrderByDescending(c => c.Version)
            .Select(c => c.Dir)
            .FirstOrDefault();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Runs a PostgreSQL program, as the postgres user when this process is root.</summary>
    private Task RunAsync(string program, params string[] arguments)
    {
        var path = Path.Combine(_bin!, program);
        return IsRoot
            ? RunProcessAsync("runuser", ["-u", "postgres", "--", path, .. arguments])
            : RunProcessAsync(path, arguments);
    }

    private async Task RunProcessAsync(string fileName, string[] arguments)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = _root ?? Path.GetTempPath(), // The postgres user may not be able to enter the test's folder.
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var (exitCode, stdout, stderr) = await ChildProcess.RunAsync(start, CommandTimeout);
        if (exitCode != 0)
        {
            var log = _root is not null && File.Exists(LogFile) ? await File.ReadAllTextAsync(LogFile) : string.Empty;
            throw new InvalidOperationException(
                $"'{Path.GetFileName(fileName)} {string.Join(' ', arguments)}' exited with {exitCode}: {stderr}{stdout}{log}");
        }
    }
}

/// <summary>A test that needs <see cref="PostgresServer"/>: skipped only when SECRETSCACHE_SKIP_POSTGRES=1.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (PostgresServer.Skipped)
        {
            Skip = $"{PostgresServer.SkipVariable}=1";
        }
    }
}
