using System.Globalization;
using System.Text.Json;

namespace SecretsCache.Aws.Protocol;

/// <summary>
/// The checks an answer passes before anything in it is believed: it came from the endpoint the request was signed for,
/// it is not longer than any AWS answer can be, and a success is not an error in disguise. Each failure is a typed
/// exception that names the endpoint and the operation, never a byte of the body.
/// </summary>
internal readonly record struct UntrustedAnswer(string Service, Uri SignedFor, string Target, string? Reference)
{
    private const int MaxTypeBytes = 256;

    private string What => Reference is null ? "the request" : $"'{Reference}'";

    /// <summary>
    /// AWS's JSON endpoints never redirect, and following one would carry the session token, the signature and the body to
    /// an address the request was not signed for. The provider's own handlers do not follow redirects, so a 3xx arrives
    /// here; a user's HttpClient that follows them shows itself by the request's URI no longer being the signed endpoint.
    /// </summary>
    public void ThrowIfRedirected(HttpRequestMessage sent, HttpResponseMessage response)
    {
        var endedAt = response.RequestMessage?.RequestUri ?? sent.RequestUri;
        if (endedAt != SignedFor || sent.RequestUri != SignedFor)
        {
            var elsewhere = AwsErrorMapper.Sanitize(endedAt?.GetLeftPart(UriPartial.Authority) ?? "another address");
            throw new SecretsConfigurationException(
                $"The HttpClient given to SecretProvider followed a redirect from AWS {Service} at {Authority(SignedFor)} to {elsewhere}, so its answer to {Target} for {What} was refused: AWS endpoints never redirect. That client may already have sent the request there, session token included. Give SecretProvider an HttpClient whose handler has AllowAutoRedirect = false.",
                Reference,
                "Redirect");
        }

        var status = (int)response.StatusCode;
        if (status is >= 300 and < 400)
        {
            throw new SecretsConfigurationException(
                $"AWS {Service} at {Authority(SignedFor)} answered {Target} for {What} with HTTP {status}, a redirect. AWS endpoints never redirect, so it was not followed and nothing was sent elsewhere; check the endpoint (Aws.ServiceUrl) and any proxy in front of it.",
                Reference,
                "Redirect");
        }
    }

    public SecretServiceUnavailableException TooLarge(HttpResponseMessage response, int maxBytes)
    {
        var declared = response.Content.Headers.ContentLength is { } length
            ? string.Create(CultureInfo.InvariantCulture, $" (it declared {length:N0})")
            : string.Empty;
        return new SecretServiceUnavailableException(
            string.Create(
                CultureInfo.InvariantCulture,
                $"AWS {Service} at {Authority(SignedFor)} answered {Target} for {What} (HTTP {(int)response.StatusCode}) with more than {maxBytes:N0} bytes{declared}, more than any AWS answer to it can be (Aws.MaxResponseBytes). The rest was not read and the connection was dropped."),
            Reference,
            Resilience.RetryPipelineFactory.ResponseTooLarge);
    }

    /// <summary>
    /// A 2xx whose body is an AWS error shape (a top-level <c>__type</c>: a proxy or a broken gateway passing an error on as
    /// a success) is transient and malformed, like the 5xx it hides, and never read as a value.
    /// </summary>
    public void ThrowIfErrorShape(ReadOnlySpan<byte> body)
    {
        if (!TryFindErrorType(body, out var type))
        {
            return;
        }

        var code = AwsErrorMapper.NormalizeCode(type);
        throw new SecretServiceUnavailableException(
            $"AWS {Service} answered {Target} for {What} with a success status but an error ({(code.Length == 0 ? "an unreadable __type" : code)}), so the answer was discarded.",
            Reference,
            "MalformedResponse");
    }

    /// <summary>Looks at the top-level members only, skipping every value; invalid JSON is left to the deserializer to report.</summary>
    private static bool TryFindErrorType(ReadOnlySpan<byte> body, out string? type)
    {
        type = null;
        var reader = new Utf8JsonReader(body);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("__type"u8))
                {
                    reader.Read();
                    type = reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length <= MaxTypeBytes ? reader.GetString() : null;
                    return true;
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
            return false;
        }

        return false;
    }

    private static string Authority(Uri url) => url.GetLeftPart(UriPartial.Authority);
}
