using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace SecretsCache.Redis.Tests.Support;

/// <summary>
/// A private redis-server for one test run (or one failure test): a free loopback port, a temporary folder, no persistence.
/// It can be killed and started again on the same port, as a Redis that crashes and restarts. If redis-server is missing
/// the tests fail with a message saying so; they are skipped only when <c>SECRETSCACHE_SKIP_REDIS=1</c>.
/// </summary>
public sealed class RedisServer : IAsyncLifetime, IAsyncDisposable
{
    public const string SkipVariable = "SECRETSCACHE_SKIP_REDIS";
    public const string BinaryVariable = "SECRETSCACHE_REDIS_SERVER"; // A redis-server binary, where it is not on PATH.
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private Process? _process;
    private string? _root;
    private string? _unavailable;

    /// <summary>Starts a server for a test of its own (one it may kill): the caller disposes it.</summary>
    public static async Task<RedisServer> StartNewAsync(Action<RedisServer>? configure = null)
    {
        var server = new RedisServer();
        configure?.Invoke(server);
        await server.InitializeAsync();
        server.EnsureRunning();
        return server;
    }

    /// <summary>
    /// The default user's password, when set before <see cref="InitializeAsync"/> (<c>--requirepass</c>): then a client that
    /// fails to authenticate gets nothing, instead of the password-less default user.
    /// </summary>
    public string? AdminPassword { get; set; }

    /// <summary>More redis-server arguments; set before <see cref="InitializeAsync"/>.</summary>
    public IReadOnlyList<string> ExtraArguments { get; set; } = [];

    public static bool Skipped => Environment.GetEnvironmentVariable(SkipVariable) == "1";

    /// <summary>The port; set before <see cref="InitializeAsync"/> to choose it.</summary>
    public int Port { get; set; }

    /// <summary>The TLS port, when started with <see cref="EnableTls"/>.</summary>
    public int TlsPort { get; private set; }

    public string Directory => _root!;

    /// <summary>A StackExchange.Redis configuration string for this server.</summary>
    public string Configuration => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Set before <see cref="InitializeAsync"/>: also listen with TLS, on a second port, with these PEM files.</summary>
    public (string Certificate, string Key)? EnableTls { get; set; }

    public async Task InitializeAsync()
    {
        if (Skipped)
        {
            return;
        }

        try
        {
            _root = Path.Combine(Path.GetTempPath(), "secretscache-redis-" + Guid.NewGuid().ToString("N")[..12]);
            System.IO.Directory.CreateDirectory(_root);
            Port = Port == 0 ? FreePort() : Port;
            await StartAsync();
        }
        catch (Exception ex)
        {
            _unavailable = ex.Message;
        }
    }

    /// <summary>Fails the calling test, saying what went wrong and how to fix it, when the server could not be started.</summary>
    public void EnsureRunning()
    {
        if (_unavailable is not null)
        {
            throw new InvalidOperationException(
                $"The Redis tests need redis-server (on PATH, or in {BinaryVariable}): {_unavailable} "
                + $"Run scripts/setup-redis.sh (it installs the Debian package 'redis-server'), or set {SkipVariable}=1 to skip these tests.");
        }
    }

    /// <summary>Starts the server (again) on the same port and returns once it accepts connections.</summary>
    public async Task StartAsync()
    {
        var binary = FindBinary() ?? throw new InvalidOperationException("redis-server was not found.");
        if (EnableTls is { } tls && TlsPort == 0)
        {
            TlsPort = FreePort();
        }

        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = _root!,
        };
        string[] arguments =
        [
            "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", _root!,
            "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes", "--loglevel", "notice",
            .. EnableTls is { } files
                ? (string[])["--tls-port", TlsPort.ToString(CultureInfo.InvariantCulture), "--tls-cert-file", files.Certificate, "--tls-key-file", files.Key, "--tls-auth-clients", "no"]
                : [],
            .. AdminPassword is { } password ? (string[])["--requirepass", password] : [],
            .. ExtraArguments,
        ];
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Text.StringBuilder();
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (e.Data.Contains("Ready to accept connections", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };
        process.Exited += (_, _) =>
        {
            // Under the lock: the output handlers may still append (an unlocked read crashed the test host at a kill).
            string text;
            lock (output)
            {
                text = output.ToString();
            }

            ready.TrySetException(new InvalidOperationException("redis-server exited at start: " + text));
        };
        if (!process.Start())
        {
            throw new InvalidOperationException("redis-server could not be started.");
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        try
        {
            await ready.Task.WaitAsync(StartTimeout);
        }
        catch (TimeoutException)
        {
            await KillAsync();
            string text;
            lock (output)
            {
                text = output.ToString();
            }

            throw new InvalidOperationException($"redis-server did not get ready within {StartTimeout.TotalSeconds:0} s: {text}");
        }
    }

    /// <summary>Kills the server at once (SIGKILL), as a crash: clients see their connections drop.</summary>
    public async Task KillAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            process.Dispose();
        }
    }

    /// <summary>A client of this server for the test itself (admin commands allowed).</summary>
    public async Task<ConnectionMultiplexer> ConnectAdminAsync()
    {
        EnsureRunning();
        var options = ConfigurationOptions.Parse(Configuration);
        options.AllowAdmin = true;
        options.Password = AdminPassword;
        options.AbortOnConnectFail = true;
        return await ConnectionMultiplexer.ConnectAsync(options);
    }

    ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());

    public async Task DisposeAsync()
    {
        await KillAsync();
        if (_root is not null && System.IO.Directory.Exists(_root))
        {
            try
            {
                System.IO.Directory.Delete(_root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? FindBinary()
    {
        if (Environment.GetEnvironmentVariable(BinaryVariable) is { Length: > 0 } configured)
        {
            return File.Exists(configured) ? configured : null;
        }

        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin").Append("/usr/sbin"))
        {
            var candidate = Path.Combine(folder, "redis-server");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}

/// <summary>The one server most test classes share (a collection runs its classes one after another); each test uses a namespace of its own.</summary>
[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisServer>
{
    public const string Name = "Redis";
}

/// <summary>A test that needs redis-server: skipped only when SECRETSCACHE_SKIP_REDIS=1.</summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (RedisServer.Skipped)
        {
            Skip = $"{RedisServer.SkipVariable}=1";
        }
    }
}

/// <summary>A theory that needs redis-server: skipped only when SECRETSCACHE_SKIP_REDIS=1.</summary>
public sealed class RedisTheoryAttribute : TheoryAttribute
{
    public RedisTheoryAttribute()
    {
        if (RedisServer.Skipped)
        {
            Skip = $"{RedisServer.SkipVariable}=1";
        }
    }
}
