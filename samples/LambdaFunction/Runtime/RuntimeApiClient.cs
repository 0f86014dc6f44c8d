using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace LambdaFunction.Runtime;

/// <summary>
/// The Lambda Runtime API, version 2018-06-01, over plain HTTP: the next invocation, its response or error, and the init
/// error. Everything it answers is checked before it is used.
/// </summary>
public sealed class RuntimeApiClient : IDisposable
{
    /// <summary>The variable through which Lambda gives the API's <c>host:port</c>.</summary>
    public const string EnvironmentVariable = "AWS_LAMBDA_RUNTIME_API";

    // A synchronous invocation's payload is at most 6 MB: a larger /next body is not an event.
    private const int MaxPayloadBytes = 6 * 1024 * 1024;
    private const int MaxRequestIdLength = 128;
    private const string ErrorContentType = "application/vnd.aws.lambda.error+json";
    private const string ErrorTypeHeader = "Lambda-Runtime-Function-Error-Type";

    private readonly HttpClient _http;

    public RuntimeApiClient(string hostAndPort)
    {
        ArgumentNullException.ThrowIfNull(hostAndPort);
        if (!Uri.TryCreate($"http://{hostAndPort}/2018-06-01/runtime/", UriKind.Absolute, out var baseAddress)
            || baseAddress.AbsolutePath != "/2018-06-01/runtime/" || baseAddress.UserInfo.Length > 0 || baseAddress.Query.Length > 0)
        {
            throw new RuntimeApiException($"{EnvironmentVariable} must be host:port.");
        }

        // No timeout: /next waits as long as Lambda has no event, and Lambda freezes the process between invocations, so a
        // timer would fire on thaw for time the process never saw.
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false })
        {
            BaseAddress = baseAddress,
            Timeout = Timeout.InfiniteTimeSpan,
            MaxResponseContentBufferSize = MaxPayloadBytes,
        };
    }

    /// <summary><c>GET /runtime/invocation/next</c>: waits for the next event.</summary>
    /// <exception cref="RuntimeApiException">The API refused (for example 500: the runtime should exit) or answered malformed headers.</exception>
    public async Task<Invocation> NextAsync(CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync(new Uri("invocation/next", UriKind.Relative), cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new RuntimeApiException($"GET /runtime/invocation/next answered {(int)response.StatusCode}.", (int)response.StatusCode);
        }

        var requestId = Header(response, "Lambda-Runtime-Aws-Request-Id")
            ?? throw new RuntimeApiException("GET /runtime/invocation/next answered without Lambda-Runtime-Aws-Request-Id.");
        if (requestId.Length > MaxRequestIdLength || !requestId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new RuntimeApiException($"GET /runtime/invocation/next answered a Lambda-Runtime-Aws-Request-Id that is not an id (up to {MaxRequestIdLength} letters, digits, '-', '_', '.').");
        }

        if (Header(response, "Lambda-Runtime-Deadline-Ms") is not { } deadlineText
            || !long.TryParse(deadlineText, NumberStyles.None, CultureInfo.InvariantCulture, out var deadlineMs)
            || deadlineMs > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            throw new RuntimeApiException("GET /runtime/invocation/next answered without a Lambda-Runtime-Deadline-Ms in Unix milliseconds.");
        }

        var payload = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return new Invocation(
            requestId,
            DateTimeOffset.FromUnixTimeMilliseconds(deadlineMs),
            Header(response, "Lambda-Runtime-Invoked-Function-Arn"),
            Header(response, "Lambda-Runtime-Trace-Id"),
            payload);
    }

    /// <summary><c>POST /runtime/invocation/{id}/response</c>.</summary>
    public async Task RespondAsync(string requestId, Stream output, CancellationToken cancellationToken = default)
    {
        using var content = new StreamContent(output);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        await PostAsync($"invocation/{Uri.EscapeDataString(requestId)}/response", "invocation/{id}/response", content, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>POST /runtime/invocation/{id}/error</c>, with <c>Lambda-Runtime-Function-Error-Type</c>.</summary>
    public Task ReportInvocationErrorAsync(string requestId, string errorType, ErrorReport report, CancellationToken cancellationToken = default) =>
        PostErrorAsync($"invocation/{Uri.EscapeDataString(requestId)}/error", "invocation/{id}/error", errorType, report, cancellationToken);

    /// <summary><c>POST /runtime/init/error</c>: init failed; the runtime exits next.</summary>
    public Task ReportInitErrorAsync(string errorType, ErrorReport report, CancellationToken cancellationToken = default) =>
        PostErrorAsync("init/error", "init/error", errorType, report, cancellationToken);

    public void Dispose() => _http.Dispose();

    private async Task PostErrorAsync(string path, string label, string errorType, ErrorReport report, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(report, RuntimeJson.Default.ErrorReport));
        content.Headers.ContentType = new MediaTypeHeaderValue(ErrorContentType);
        await PostAsync(path, label, content, errorType, cancellationToken).ConfigureAwait(false);
    }

    private async Task PostAsync(string path, string label, HttpContent content, string? errorType, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative)) { Content = content };
        if (errorType is not null)
        {
            request.Headers.TryAddWithoutValidation(ErrorTypeHeader, errorType);
        }

        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new RuntimeApiException($"POST /runtime/{label} answered {(int)response.StatusCode}.", (int)response.StatusCode);
        }
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) && values.ToArray() is [{ Length: > 0 } value] ? value : null;
}
