using System.Collections.Concurrent;
using System.Text;
using Amazon.Runtime;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using SecretsCache.Testing.Hosting;

namespace SecretsCache.IntegrationTests.Provider.Support;

/// <summary>
/// A real loopback HTTP server that answers however a test says: the network at its worst. It records every request it
/// receives (method, headers, body size), so a test can assert that nothing reached it.
/// </summary>
internal sealed class HostileServer : IAsyncDisposable
{
    public const string SessionToken = "session-token-that-must-stay-home";

    private readonly LoopbackServer _server;
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();

    private HostileServer(LoopbackServer server) => _server = server;

    /// <summary><c>http://127.0.0.1:&lt;port&gt;/</c>.</summary>
    public Uri Endpoint => _server.Endpoint;

    /// <summary>What the server answers; replaced by tests between reads.</summary>
    public Func<HttpContext, Task> Answer { get; set; } = context =>
    {
        context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        return Task.CompletedTask;
    };

    public IReadOnlyList<ReceivedRequest> Received => [.. _received];

    public static async Task<HostileServer> StartAsync()
    {
        HostileServer? created = null;
        var server = await LoopbackServer.StartAsync(0, NullLoggerFactory.Instance, context => created!.HandleAsync(context), CancellationToken.None);
        created = new HostileServer(server);
        return created;
    }

    /// <summary>Options pointing at this server, with a session token so a test can see where it travels.</summary>
    public SecretsCacheOptions Options(Action<SecretsCacheOptions>? configure = null)
    {
        var options = new SecretsCacheOptions();
        options.Aws.ServiceUrl = Endpoint.ToString();
        options.Aws.Region = "eu-west-1";
        options.Aws.Credentials = new SessionAWSCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", SessionToken);
        options.TtlJitter = 0;
        options.RefreshAheadFraction = 1;
        options.MinForcedRefreshInterval = TimeSpan.Zero;
        options.Retry.BaseDelay = TimeSpan.FromMilliseconds(1);
        options.Retry.ThrottlingBaseDelay = TimeSpan.FromMilliseconds(1);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(5);
        configure?.Invoke(options);
        return options;
    }

    /// <summary>A GetSecretValue answer for <paramref name="name"/>.</summary>
    public static string SecretJson(string name, string value, string version = "a1b2c3d4-0000-4000-8000-000000000001") =>
        $$"""{"ARN":"arn:aws:secretsmanager:eu-west-1:123456789012:secret:{{name}}-AbCdEf","Name":"{{name}}","VersionId":"{{version}}","VersionStages":["AWSCURRENT"],"SecretString":"{{value}}","CreatedDate":1.7e9}""";

    public static Task Json(HttpContext context, string json, int status = StatusCodes.Status200OK)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/x-amz-json-1.1";
        return context.Response.WriteAsync(json, Encoding.UTF8);
    }

    /// <summary>
    /// A GetSecretValue answer whose SecretString makes the body <paramref name="totalBytes"/> long, written in 64 KiB
    /// pieces with a Content-Length (or chunked, without one) until done or the client hangs up.
    /// </summary>
    public static async Task HugeSecretAsync(HttpContext context, string name, long totalBytes, bool chunked)
    {
        var prefix = Encoding.UTF8.GetBytes(SecretJson(name, "§").Split('§')[0]);
        var suffix = Encoding.UTF8.GetBytes(SecretJson(name, "§").Split('§')[1]);
        var filler = new byte[64 * 1024];
        Array.Fill(filler, (byte)'x');
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/x-amz-json-1.1";
        if (!chunked)
        {
            context.Response.ContentLength = totalBytes;
        }

        var aborted = context.RequestAborted;
        try
        {
            await context.Response.Body.WriteAsync(prefix, aborted);
            var middle = totalBytes - prefix.Length - suffix.Length;
            for (var piece = 0L; piece * filler.Length < middle && !aborted.IsCancellationRequested; piece++)
            {
                var size = (int)Math.Min(filler.Length, middle - (piece * filler.Length));
                await context.Response.Body.WriteAsync(filler.AsMemory(0, size), aborted);
            }

            await context.Response.Body.WriteAsync(suffix, aborted);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
            // The client hung up: that is the point.
        }
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task HandleAsync(HttpContext context)
    {
        long bodyBytes = 0;
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
        {
            bodyBytes += read;
        }

        _received.Enqueue(new ReceivedRequest(
            context.Request.Method,
            context.Request.Headers["X-Amz-Target"].ToString(),
            context.Request.Headers["X-Amz-Security-Token"].ToString(),
            context.Request.Headers.Authorization.ToString(),
            bodyBytes,
            context.Connection.Id));
        await Answer(context);
    }
}

internal sealed record ReceivedRequest(string Method, string Target, string SessionToken, string Authorization, long BodyBytes, string ConnectionId);
