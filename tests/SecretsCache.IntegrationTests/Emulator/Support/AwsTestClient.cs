using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Amazon.Runtime.Internal.Auth;
using SecretsCache.Testing;

namespace SecretsCache.IntegrationTests.Emulator.Support;

/// <summary>How a test request is signed; every part can be changed to provoke a rejection.</summary>
internal sealed record Signing
{
    public required string AccessKeyId { get; init; }
    public required string SecretAccessKey { get; init; }
    public required string Region { get; init; }
    public string? Service { get; init; }
    public string? SessionToken { get; init; }
    public bool SignSessionToken { get; init; } = true;
    public DateTimeOffset? SignedAt { get; init; }
    public bool SignHost { get; init; } = true;
}

/// <summary>An answer: status, headers and the JSON body.</summary>
internal sealed record AwsResponse(HttpStatusCode Status, HttpResponseHeaders Headers, string Raw)
{
    public JsonElement Body { get; } = Raw.Length == 0 ? default : JsonDocument.Parse(Raw).RootElement.Clone();

    public string? ErrorType => Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("__type", out var t) ? t.GetString() : null;

    /// <summary>AWS spells the member "message" or "Message" depending on the error.</summary>
    public string? Message =>
        Body.ValueKind != JsonValueKind.Object ? null
        : Body.TryGetProperty("message", out var m) ? m.GetString()
        : Body.TryGetProperty(nameof(Message), out var n) ? n.GetString()
        : null;
}

/// <summary>
/// Sends AWS JSON 1.1 requests to the emulator over real HTTP, signed with SigV4 from a canonical request built here
/// (independently of the emulator's verifier) and AWSSDK.Core's AWS4Signer.ComputeSignature.
/// </summary>
internal sealed class AwsTestClient : IDisposable
{
    private readonly AwsEmulator _emulator;

    public AwsTestClient(AwsEmulator emulator, Func<DateTimeOffset>? clock = null)
    {
        _emulator = emulator;
        Clock = clock ?? (() => DateTimeOffset.UtcNow);
        Signing = new Signing { AccessKeyId = emulator.AccessKeyId, SecretAccessKey = emulator.SecretAccessKey, Region = emulator.Region };
    }

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    public Func<DateTimeOffset> Clock { get; set; }

    public Signing Signing { get; set; }

    public Task<AwsResponse> SendAsync(string target, object body, Signing? signing = null, Action<HttpRequestMessage>? afterSigning = null) =>
        SendJsonAsync(target, JsonSerializer.Serialize(body), signing, afterSigning);

    public async Task<AwsResponse> SendJsonAsync(string target, string json, Signing? signing = null, Action<HttpRequestMessage>? afterSigning = null)
    {
        using var request = Build(target, json, signing ?? Signing);
        afterSigning?.Invoke(request);
        using var response = await Http.SendAsync(request);
        return new AwsResponse(response.StatusCode, response.Headers, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Sends (signed for <paramref name="region"/> when given) and expects HTTP 200, returning the body.</summary>
    public async Task<JsonElement> CallAsync(string target, object body, string? region = null)
    {
        var response = await SendAsync(target, body, In(region));
        Assert.True(response.Status == HttpStatusCode.OK, $"{target} in {region ?? Signing.Region} answered {(int)response.Status}: {response.Raw}");
        return response.Body;
    }

    /// <summary>Sends (signed for <paramref name="region"/> when given) and expects an AWS error with the given HTTP status and code.</summary>
    public async Task<AwsResponse> FailAsync(string target, object body, string errorType, HttpStatusCode status = HttpStatusCode.BadRequest, string? region = null)
    {
        var response = await SendAsync(target, body, In(region));
        Assert.True(response.Status == status && response.ErrorType == errorType, $"{target}: expected {(int)status} {errorType}, got {(int)response.Status}: {response.Raw}");
        return response;
    }

    /// <summary>The default signing, scoped to <paramref name="region"/> when given.</summary>
    public Signing In(string? region) => region is null ? Signing : Signing with { Region = region };

    public HttpRequestMessage Build(string target, string json, Signing signing)
    {
        var body = Encoding.UTF8.GetBytes(json);
        var signedAt = signing.SignedAt ?? Clock();
        var amzDate = signedAt.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var service = signing.Service ?? (target.StartsWith("secretsmanager.", StringComparison.Ordinal) ? "secretsmanager" : "ssm");

        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["content-type"] = "application/x-amz-json-1.1",
            ["x-amz-date"] = amzDate,
            ["x-amz-target"] = target,
        };
        if (signing.SignHost)
        {
            headers["host"] = $"127.0.0.1:{_emulator.Endpoint.Port}";
        }

        if (signing.SessionToken is not null && signing.SignSessionToken)
        {
            headers["x-amz-security-token"] = signing.SessionToken;
        }

        var signedHeaders = string.Join(';', headers.Keys);
        var canonical = new StringBuilder("POST\n/\n\n");
        foreach (var (name, value) in headers)
        {
            canonical.Append(name).Append(':').Append(value).Append('\n');
        }

        canonical.Append('\n').Append(signedHeaders).Append('\n').Append(Convert.ToHexString(SHA256.HashData(body)).ToLowerInvariant());
        var signature = AWS4Signer.ComputeSignature(signing.AccessKeyId, signing.SecretAccessKey, signing.Region, signedAt.UtcDateTime, service, signedHeaders, canonical.ToString()).Signature;

        var request = new HttpRequestMessage(HttpMethod.Post, _emulator.Endpoint) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-amz-json-1.1");
        request.Headers.TryAddWithoutValidation("X-Amz-Date", amzDate);
        request.Headers.TryAddWithoutValidation("X-Amz-Target", target);
        if (signing.SessionToken is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Amz-Security-Token", signing.SessionToken);
        }

        request.Headers.TryAddWithoutValidation(
            "Authorization",
            $"AWS4-HMAC-SHA256 Credential={signing.AccessKeyId}/{amzDate[..8]}/{signing.Region}/{service}/aws4_request, SignedHeaders={signedHeaders}, Signature={signature}");
        return request;
    }

    public void Dispose() => Http.Dispose();
}
