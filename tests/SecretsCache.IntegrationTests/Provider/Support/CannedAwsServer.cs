using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Amazon.Runtime;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using SecretsCache.IntegrationTests.Emulator.Support;
using SecretsCache.Testing.Hosting;

namespace SecretsCache.IntegrationTests.Provider.Support;

/// <summary>
/// A real loopback HTTP server that answers every AWS JSON 1.1 call with HTTP 200 and the body a test chooses, for the
/// answers the emulator never gives: successes that lack their payload, batches that cannot be told apart. It checks no
/// signature; the provider under test still signs and sends real requests.
/// </summary>
internal sealed class CannedAwsServer : IAsyncDisposable
{
    public const string Region = "us-east-1";
    public const string Account = "123456789012";

    private readonly LoopbackServer _server;
    private readonly ConcurrentQueue<(string Target, string Body)> _requests = new();

    private CannedAwsServer(LoopbackServer server) => _server = server;

    /// <summary>Decides the 200 body from the operation (e.g. <c>GetParameter</c>) and the request body.</summary>
    public Func<string, JsonElement, string> Answer { get; set; } = (_, _) => "{}";

    public IReadOnlyList<(string Target, string Body)> Requests => [.. _requests];

    public int Count(string operation) => _requests.Count(r => r.Target.EndsWith("." + operation, StringComparison.Ordinal));

    public static async Task<CannedAwsServer> StartAsync()
    {
        CannedAwsServer? self = null;
        var server = await LoopbackServer.StartAsync(0, NullLoggerFactory.Instance, context => self!.HandleAsync(context), CancellationToken.None);
        self = new CannedAwsServer(server);
        return self;
    }

    /// <summary>Options that reach this server with exact timing: no jitter, no refresh-ahead, no retries, no rate limits, no breaker.</summary>
    public SecretsCacheOptions Options(Action<SecretsCacheOptions>? configure = null)
    {
        var options = new SecretsCacheOptions { TtlJitter = 0, RefreshAheadFraction = 1 };
        options.Aws.ServiceUrl = _server.Endpoint.ToString();
        options.Aws.Region = Region;
        options.Aws.Credentials = new BasicAWSCredentials("AKIDEXAMPLE", "canned-secret-key");
        options.Retry.MaxRetryAttempts = 0;
        options.Retry.BreakDuration = TimeSpan.Zero;
        options.RateLimits.SecretsManagerRequestsPerSecond = 0;
        options.RateLimits.SecretsManagerBatchRequestsPerSecond = 0;
        options.RateLimits.ParameterStoreRequestsPerSecond = 0;
        configure?.Invoke(options);
        return options;
    }

    /// <summary>A clock that starts at the real time (so signatures look current) and moves only when the test moves it.</summary>
    public static FakeTimeProvider Clock() => new(TimeProvider.System.GetUtcNow());

    /// <summary>A Parameter object as AWS shapes it; <paramref name="selector"/> (e.g. <c>:1</c>) only when given.</summary>
    public static string ParameterJson(string name, string value, long version, string? selector = null)
    {
        var parameter = new Dictionary<string, object>
        {
            ["Name"] = name,
            ["Type"] = "String",
            ["Value"] = value,
            ["Version"] = version,
            ["ARN"] = $"arn:aws:ssm:{Region}:{Account}:parameter{name}",
        };
        if (selector is not null)
        {
            parameter["Selector"] = selector;
        }

        return JsonSerializer.Serialize(parameter);
    }

    /// <summary>A GetSecretValue answer (or a SecretValues entry) as AWS shapes it.</summary>
    public static string SecretValueJson(string name, string value, string versionId, string suffix = "AbCdEf") =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["ARN"] = $"arn:aws:secretsmanager:{Region}:{Account}:secret:{name}-{suffix}",
            ["Name"] = name,
            ["VersionId"] = versionId,
            ["SecretString"] = value,
            ["VersionStages"] = new[] { "AWSCURRENT" },
        });

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task HandleAsync(HttpContext context)
    {
        var target = context.Request.Headers["X-Amz-Target"].ToString();
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        _requests.Enqueue((target, body));
        using var input = JsonDocument.Parse(body.Length == 0 ? "{}" : body);
        var answer = Answer(target[(target.IndexOf('.', StringComparison.Ordinal) + 1)..], input.RootElement);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/x-amz-json-1.1";
        await context.Response.WriteAsync(answer);
    }
}
