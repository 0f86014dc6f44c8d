using System.Globalization;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.Runtime.Internal.Auth;

namespace SecretsCache.Aws.Signing;

/// <summary>
/// Signs an AWS JSON request. It sets every header it signs itself, with the exact values that go on the wire, and signs
/// nothing HttpClient may add or change later (Content-Length, User-Agent, Expect, Connection).
/// </summary>
internal static class RequestSigner
{
    public const string AmzDate = "X-Amz-Date";
    public const string AmzSecurityToken = "X-Amz-Security-Token";
    public const string AmzTarget = "X-Amz-Target";
    public const string JsonContentType = "application/x-amz-json-1.1";

    public static void Sign(HttpRequestMessage request, byte[] body, ImmutableCredentials credentials, string region, string service, DateTime signedAt)
    {
        var uri = request.RequestUri ?? throw new InvalidOperationException("The request has no URI.");
        var host = uri.IsDefaultPort ? uri.IdnHost : $"{uri.IdnHost}:{uri.Port.ToString(CultureInfo.InvariantCulture)}";
        var amzDate = signedAt.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

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
            headers.Add(new("content-type", contentType.ToString()));
        }

        var payloadHash = Convert.ToHexString(SHA256.HashData(body)).ToLowerInvariant();
        var (canonical, signedHeaders) = CanonicalRequest.Build(request.Method.Method, uri.AbsolutePath, uri.Query, headers, payloadHash, normalizePath: true);
        var result = AWS4Signer.ComputeSignature(credentials, region, signedAt, service, signedHeaders, canonical);
        request.Headers.TryAddWithoutValidation("Authorization", result.ForAuthorizationHeader);
    }
}
