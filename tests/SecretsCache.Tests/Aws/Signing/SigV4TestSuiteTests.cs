using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Amazon.Runtime;
using Amazon.Runtime.Internal.Auth;
using SecretsCache.Aws.Signing;
using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Aws.Signing;

/// <summary>Runs the signing path over AWS's official SigV4 test suite (tests/Shared/sigv4-testsuite), loaded at run time.</summary>
public sealed class SigV4TestSuiteTests
{
    private const string Region = "us-east-1";
    private const string Service = "service";
    private static readonly ImmutableCredentials Credentials = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", null);

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var req in Directory.EnumerateFiles(SharedFiles.Path("sigv4-testsuite"), "*.req", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            data.Add(System.IO.Path.GetRelativePath(SharedFiles.Path("sigv4-testsuite"), req[..^4]));
        }

        return data;
    }

    [Fact]
    public void The_suite_is_there_and_not_empty() => Assert.True(Cases().Count >= 30, $"expected the official vectors, found {Cases().Count}");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Canonical_request_and_authorization_header_match_the_vector(string name)
    {
        var basePath = SharedFiles.Path("sigv4-testsuite", name);
        var request = RawRequest.Parse(File.ReadAllText(basePath + ".req"));
        var expectedCanonical = File.ReadAllText(basePath + ".creq").ReplaceLineEndings("\n");
        var expectedAuthorization = File.ReadAllText(basePath + ".authz").Trim();

        if (TokenFromCanonical(expectedCanonical) is { } token && !request.Headers.Any(h => h.Key.Equals("X-Amz-Security-Token", StringComparison.OrdinalIgnoreCase)))
        {
            request.Headers.Add(new("X-Amz-Security-Token", token)); // This vector expects the signer to add the session token.
        }

        var payloadHash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(request.Body))).ToLowerInvariant();
        var (canonical, signedHeaders) = CanonicalRequest.Build(request.Method, request.Path, request.Query, request.Headers, payloadHash);
        Assert.Equal(expectedCanonical, canonical);

        var signedAt = DateTime.ParseExact(
            request.Headers.First(h => h.Key.Equals("X-Amz-Date", StringComparison.OrdinalIgnoreCase)).Value,
            "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
        var result = AWS4Signer.ComputeSignature(Credentials, Region, signedAt, Service, signedHeaders, canonical);
        Assert.Equal(expectedAuthorization, result.ForAuthorizationHeader);
    }

    [Theory]
    [InlineData("post-vanilla/post-vanilla")]
    [InlineData("get-vanilla/get-vanilla")]
    [InlineData("get-vanilla-with-session-token/get-vanilla-with-session-token")]
    [InlineData("post-sts-token/post-sts-header-before/post-sts-header-before")]
    public void The_request_signer_produces_the_vector_on_a_real_HttpRequestMessage(string name)
    {
        var basePath = SharedFiles.Path("sigv4-testsuite", name);
        var raw = RawRequest.Parse(File.ReadAllText(basePath + ".req"));
        var sessionToken = TokenFromCanonical(File.ReadAllText(basePath + ".creq").ReplaceLineEndings("\n"));

        using var message = new HttpRequestMessage(new HttpMethod(raw.Method), "https://example.amazonaws.com" + raw.Path);
        var credentials = new ImmutableCredentials(Credentials.AccessKey, Credentials.SecretKey, sessionToken);
        RequestSigner.Sign(message, [], credentials, Region, Service, new DateTime(2015, 8, 30, 12, 36, 0, DateTimeKind.Utc));

        Assert.Equal(File.ReadAllText(basePath + ".authz").Trim(), string.Join(",", message.Headers.GetValues("Authorization")));
        Assert.Equal("20150830T123600Z", message.Headers.GetValues("X-Amz-Date").Single());
        Assert.Equal(sessionToken is not null, message.Headers.Contains("X-Amz-Security-Token"));
    }

    private static string? TokenFromCanonical(string canonical) =>
        canonical.Split('\n').FirstOrDefault(l => l.StartsWith("x-amz-security-token:", StringComparison.Ordinal))?["x-amz-security-token:".Length..];

    /// <summary>A request in the suite's .req format: request line, headers (with folded continuation lines), blank line, body.</summary>
    private sealed record RawRequest(string Method, string Path, string Query, List<KeyValuePair<string, string>> Headers, string Body)
    {
        public static RawRequest Parse(string text)
        {
            var lines = text.ReplaceLineEndings("\n").Split('\n');
            var requestLine = lines[0];
            var firstSpace = requestLine.IndexOf(' ', StringComparison.Ordinal);
            var lastSpace = requestLine.LastIndexOf(' ');
            var target = requestLine[(firstSpace + 1)..lastSpace];
            var q = target.IndexOf('?', StringComparison.Ordinal);
            var headers = new List<KeyValuePair<string, string>>();
            var i = 1;
            for (; i < lines.Length && lines[i].Length > 0; i++)
            {
                if (char.IsWhiteSpace(lines[i][0]))
                {
                    var last = headers[^1];
                    headers[^1] = new(last.Key, last.Value + " " + lines[i].Trim());
                    continue;
                }

                var colon = lines[i].IndexOf(':', StringComparison.Ordinal);
                headers.Add(new(lines[i][..colon], lines[i][(colon + 1)..]));
            }

            var body = i < lines.Length ? string.Join("\n", lines[(i + 1)..]) : string.Empty;
            return new RawRequest(requestLine[..firstSpace], q < 0 ? target : target[..q], q < 0 ? string.Empty : target[q..], headers, body);
        }
    }
}
