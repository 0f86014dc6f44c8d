using System.Security.Cryptography;
using System.Text;
using Amazon.Runtime;
using Amazon.Runtime.Internal.Auth;
using SecretsCache.Aws.Signing;

namespace SecretsCache.Tests.Aws.Signing;

/// <summary>
/// The root-path signer (every JSON 1.1 call) writes its canonical request directly; these check it signs exactly what the
/// general signer signs, and that its Authorization header is the text AWSSDK.Core's own formatting gives.
/// </summary>
public sealed class RootSignerTests
{
    private const string Region = "eu-west-1";
    private const string Service = "secretsmanager";
    private static readonly DateTime SignedAt = new(2026, 12, 2, 15, 4, 5, DateTimeKind.Utc);
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"SecretId":"app/db"}""");

    public static TheoryData<string?, string, string> Cases() => new()
    {
        { null, "https://secretsmanager.eu-west-1.amazonaws.com/", "secretsmanager.GetSecretValue" },
        { "FQoGZXIvYXdzEJr//////////wEaDOlbEXAMPLETOKEN==", "https://secretsmanager.eu-west-1.amazonaws.com/", "secretsmanager.GetSecretValue" },
        { null, "http://127.0.0.1:4566/", "AmazonSSM.GetParameters" },
        { "token with  folded\twhitespace ", "http://127.0.0.1:4566/", "secretsmanager.DescribeSecret" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_root_signer_sends_and_signs_what_the_general_signer_does(string? token, string url, string target)
    {
        var credentials = new ImmutableCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token);
        var uri = new Uri(url);

        using var general = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(Body) };
        general.Content.Headers.ContentType = new("application/x-amz-json-1.1");
        general.Headers.TryAddWithoutValidation(RequestSigner.AmzTarget, target);
        RequestSigner.Sign(general, Body, credentials, Region, Service, SignedAt);

        using var root = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(Body) };
        RequestSigner.SignJsonAtRoot(root, RequestSigner.HostOf(uri), target, Body, credentials, Region, Service, SignedAt);

        foreach (var header in new[] { "Authorization", "Host", RequestSigner.AmzDate, RequestSigner.AmzTarget, RequestSigner.AmzSecurityToken })
        {
            Assert.Equal(Values(general, header), Values(root, header));
        }

        Assert.Equal("application/x-amz-json-1.1", root.Content.Headers.ContentType?.ToString());
        Assert.Equal(token is not null, root.Headers.Contains(RequestSigner.AmzSecurityToken));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_authorization_header_is_AWSSDK_Cores_own_text(string? token, string url, string target)
    {
        var credentials = new ImmutableCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token);
        var uri = new Uri(url);
        using var root = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(Body) };
        RequestSigner.SignJsonAtRoot(root, RequestSigner.HostOf(uri), target, Body, credentials, Region, Service, SignedAt);

        // The canonical request as the general builder writes it, signed and formatted by AWSSDK.Core alone.
        var headers = new List<KeyValuePair<string, string>>
        {
            new("content-type", "application/x-amz-json-1.1"),
            new("host", RequestSigner.HostOf(uri)),
            new("x-amz-date", "20261202T150405Z"),
            new("x-amz-target", target),
        };
        if (token is not null)
        {
            headers.Add(new("x-amz-security-token", token));
        }

        var (canonical, signedHeaders) = CanonicalRequest.Build("POST", "/", "", headers, Convert.ToHexString(SHA256.HashData(Body)).ToLowerInvariant());
        var expected = AWS4Signer.ComputeSignature(credentials, Region, SignedAt, Service, signedHeaders, canonical).ForAuthorizationHeader;

        Assert.Equal(expected, Assert.Single(root.Headers.GetValues("Authorization")));
    }

    private static string[] Values(HttpRequestMessage message, string header) =>
        message.Headers.TryGetValues(header, out var values) ? [.. values] : [];
}
