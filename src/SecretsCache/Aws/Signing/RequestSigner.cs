using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.Runtime.Internal.Auth;

namespace SecretsCache.Aws.Signing;

/// <summary>
/// Signs an AWS JSON request. It sets every header it signs itself, with the exact values that go on the wire, and signs
/// nothing HttpClient may add or change later (Content-Length, User-Agent, Expect, Connection). The signature is
/// AWSSDK.Core's (<see cref="AWS4Signer.ComputeSignature(ImmutableCredentials, string, DateTime, string, string, string)"/>);
/// only the canonical request it signs and the Authorization header it yields are written here.
/// </summary>
internal static class RequestSigner
{
    public const string AmzDate = "X-Amz-Date";
    public const string AmzSecurityToken = "X-Amz-Security-Token";
    public const string AmzTarget = "X-Amz-Target";
    public const string JsonContentType = "application/x-amz-json-1.1";

    private const string JsonSignedHeaders = "content-type;host;x-amz-date;x-amz-target";
    private const string JsonSignedHeadersWithToken = "content-type;host;x-amz-date;x-amz-security-token;x-amz-target";
    private const string AmzDateFormat = "yyyyMMdd'T'HHmmss'Z'";

    /// <summary>The content type of every JSON 1.1 request, one instance, so the signer knows its text without formatting it.</summary>
    public static readonly MediaTypeHeaderValue JsonMediaType = new(JsonContentType);

    /// <summary>
    /// Signs any request: the canonical request is built in general (path normalisation and encoding, sorted query, every
    /// header the request carries among host, X-Amz-Date, the session token, X-Amz-Target and the content type).
    /// </summary>
    public static void Sign(HttpRequestMessage request, ReadOnlySpan<byte> body, ImmutableCredentials credentials, string region, string service, DateTime signedAt)
    {
        var uri = request.RequestUri ?? throw new InvalidOperationException("The request has no URI.");
        var host = HostOf(uri);
        var amzDate = signedAt.ToString(AmzDateFormat, CultureInfo.InvariantCulture);

        request.Headers.Host = host;
        request.Headers.Remove(AmzDate);
        request.Headers.TryAddWithoutValidation(AmzDate, amzDate);
        request.Headers.Remove(AmzSecurityToken);
        if (credentials.UseToken)
        {
            request.Headers.TryAddWithoutValidation(AmzSecurityToken, credentials.Token);
        }

        var headers = new List<KeyValuePair<string, string>>(6)
        {
            new("host", host),
            new(AmzDate, amzDate),
        };
        if (credentials.UseToken)
        {
            headers.Add(new(AmzSecurityToken, credentials.Token));
        }

        if (request.Headers.TryGetValues(AmzTarget, out var targets))
        {
            headers.Add(new(AmzTarget, string.Join(',', targets)));
        }

        if (request.Content?.Headers.ContentType is { } contentType)
        {
            headers.Add(new("content-type", ReferenceEquals(contentType, JsonMediaType) ? JsonContentType : contentType.ToString()));
        }

        Span<char> payloadHash = stackalloc char[64];
        HashHex(body, payloadHash);
        var (canonical, signedHeaders) = CanonicalRequest.Build(request.Method.Method, uri.AbsolutePath, uri.Query, headers, payloadHash.ToString(), normalizePath: true);
        var result = AWS4Signer.ComputeSignature(credentials, region, signedAt, service, signedHeaders, canonical);
        request.Headers.TryAddWithoutValidation("Authorization", Authorization(credentials, signedAt, region, service, signedHeaders, result));
    }

    /// <summary>
    /// Signs a JSON 1.1 call to the root path (<c>POST /</c>, no query: every AWS JSON endpoint, and any custom endpoint without a path),
    /// the request every fetch sends. It sets the content type, host, X-Amz-Date, the session token and X-Amz-Target, and writes the
    /// canonical request directly (those headers in their sorted order, the path <c>/</c>) instead of building it in general:
    /// the same text <see cref="Sign"/> would build, with one string allocated for it.
    /// </summary>
    /// <remarks>The Host header passed in is the one signed and sent: the host, and the port unless it is the scheme's default (<see cref="HostOf"/>).</remarks>
    public static void SignJsonAtRoot(
        HttpRequestMessage request, string host, string target, ReadOnlySpan<byte> body, ImmutableCredentials credentials, string region, string service, DateTime signedAt)
    {
        var content = request.Content ?? throw new InvalidOperationException("A JSON 1.1 request has a body.");
        var token = credentials.UseToken ? credentials.Token : null;
        if (NeedsFolding(token) || NeedsFolding(target) || NeedsFolding(host))
        {
            request.Headers.TryAddWithoutValidation(AmzTarget, target);
            content.Headers.ContentType = JsonMediaType;
            Sign(request, body, credentials, region, service, signedAt); // a value the canonical form trims or folds: the general way
            return;
        }

        var amzDate = signedAt.ToString(AmzDateFormat, CultureInfo.InvariantCulture);
        content.Headers.ContentType = JsonMediaType;
        request.Headers.Host = host;
        request.Headers.TryAddWithoutValidation(AmzDate, amzDate);
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation(AmzSecurityToken, token);
        }

        request.Headers.TryAddWithoutValidation(AmzTarget, target);

        Span<char> payloadHash = stackalloc char[64];
        HashHex(body, payloadHash);
        string canonical, signedHeaders;
        if (token is null)
        {
            signedHeaders = JsonSignedHeaders;
            canonical = string.Create(
                CultureInfo.InvariantCulture,
                stackalloc char[512],
                $"{request.Method.Method}\n/\n\ncontent-type:{JsonContentType}\nhost:{host}\nx-amz-date:{amzDate}\nx-amz-target:{target}\n\n{JsonSignedHeaders}\n{payloadHash}");
        }
        else
        {
            signedHeaders = JsonSignedHeadersWithToken;
            canonical = string.Create(
                CultureInfo.InvariantCulture,
                stackalloc char[512],
                $"{request.Method.Method}\n/\n\ncontent-type:{JsonContentType}\nhost:{host}\nx-amz-date:{amzDate}\nx-amz-security-token:{token}\nx-amz-target:{target}\n\n{JsonSignedHeadersWithToken}\n{payloadHash}");
        }

        var result = AWS4Signer.ComputeSignature(credentials, region, signedAt, service, signedHeaders, canonical);
        request.Headers.TryAddWithoutValidation("Authorization", Authorization(credentials, signedAt, region, service, signedHeaders, result));
    }

    /// <summary>The Host header as SigV4 signs it: the IDN host, with the port unless it is the scheme's default.</summary>
    public static string HostOf(Uri uri) => uri.IsDefaultPort ? uri.IdnHost : $"{uri.IdnHost}:{uri.Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// The Authorization header, formatted in one string (AWSSDK.Core's <c>ForAuthorizationHeader</c> gives the same text
    /// through a builder and a formatted scope).
    /// </summary>
    private static string Authorization(ImmutableCredentials credentials, DateTime signedAt, string region, string service, string signedHeaders, AWS4SigningResult result) =>
        string.Create(
            CultureInfo.InvariantCulture,
            stackalloc char[256],
            $"AWS4-HMAC-SHA256 Credential={credentials.AccessKey}/{signedAt:yyyyMMdd}/{region}/{service}/aws4_request, SignedHeaders={signedHeaders}, Signature={result.Signature}");

    private static void HashHex(ReadOnlySpan<byte> body, Span<char> hex)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(body, hash);
        const string Digits = "0123456789abcdef";
        for (var i = 0; i < hash.Length; i++)
        {
            hex[2 * i] = Digits[hash[i] >> 4];
            hex[(2 * i) + 1] = Digits[hash[i] & 0xF];
        }
    }

    /// <summary>Whether a header value is not its own canonical form (leading or trailing space, or whitespace the canonical form folds).</summary>
    private static bool NeedsFolding(string? value) => value is not null && value.AsSpan().IndexOfAny(" \t\r\n") >= 0;
}
