using System.Security.Cryptography;
using System.Text;
using SecretsCache.Testing.Signing;
using SecretsCache.TestSupport;

namespace SecretsCache.IntegrationTests.Emulator;

/// <summary>
/// The emulator's verifier against AWS's SigV4 test suite (tests/Shared/sigv4-testsuite), loaded at run time: for every case
/// our canonical request equals the .creq, the .authz signature verifies, and a tampered request is rejected.
/// </summary>
public sealed class SigV4TestSuiteTests
{
    private const string AccessKey = "AKIDEXAMPLE";
    private const string SecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    private const string Region = "us-east-1";
    private const string Service = "service";

    public static TheoryData<string> Cases() => new(CaseNames());

    private static List<string> CaseNames() =>
        Directory.EnumerateFiles(SuiteDirectory(), "*.sreq", SearchOption.AllDirectories)
            .Select(request => Path.GetRelativePath(SuiteDirectory(), request[..^".sreq".Length]))
            .Order(StringComparer.Ordinal)
            .ToList();

    [Fact]
    public void The_suite_is_found_and_complete()
    {
        var cases = CaseNames();
        Assert.True(cases.Count >= 25, $"Only {cases.Count} SigV4 cases found under {SuiteDirectory()}.");
        Assert.All(cases, c =>
        {
            Assert.True(File.Exists(Path.Combine(SuiteDirectory(), c + ".creq")), c);
            Assert.True(File.Exists(Path.Combine(SuiteDirectory(), c + ".authz")), c);
        });
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Canonical_request_matches_the_suite(string name)
    {
        var (request, authorization) = Load(name);

        var canonical = CanonicalRequest.Build(request, authorization.SignedHeaders, request.BodySha256);

        Assert.Equal(File.ReadAllText(Path.Combine(SuiteDirectory(), name + ".creq")), canonical);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Authorization_from_the_suite_verifies(string name)
    {
        var (request, authorization) = Load(name);
        Assert.True(SignatureCalculator.TryParseAmzDate(request.First("X-Amz-Date"), out var signedAt));

        var canonical = CanonicalRequest.Build(request, authorization.SignedHeaders, request.BodySha256);
        Assert.Equal(authorization.Signature, SignatureCalculator.ComputeSignature(SecretKey, authorization, signedAt, canonical));

        var failure = Authenticator(request).Authenticate(request, Service, signedAt);
        if (request.First("X-Amz-Security-Token") is not null && !authorization.SignedHeaders.Contains("x-amz-security-token"))
        {
            // post-sts-header-after adds the token after signing; the emulator requires session tokens to be signed.
            Assert.Equal("InvalidSignatureException", failure?.Code);
            Assert.Contains("X-Amz-Security-Token", failure!.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.Null(failure);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Tampered_request_is_rejected(string name)
    {
        var (request, authorization) = Load(name);
        Assert.True(SignatureCalculator.TryParseAmzDate(request.First("X-Amz-Date"), out var signedAt));
        var tamperedBody = request with { BodySha256 = Convert.ToHexString(SHA256.HashData("tampered"u8)).ToLowerInvariant() };
        var tamperedPath = request with { RawTarget = "/tampered" + request.RawTarget };
        var tamperedHeader = request with
        {
            Headers = request.Headers.Select(h => h.Key.Equals("Host", StringComparison.OrdinalIgnoreCase) ? new KeyValuePair<string, string>(h.Key, "evil.example.com") : h).ToList(),
        };

        foreach (var tampered in new[] { tamperedBody, tamperedPath, tamperedHeader })
        {
            var canonical = CanonicalRequest.Build(tampered, authorization.SignedHeaders, tampered.BodySha256);
            Assert.NotEqual(authorization.Signature, SignatureCalculator.ComputeSignature(SecretKey, authorization, signedAt, canonical));
            var failure = Authenticator(tampered).Authenticate(tampered, Service, signedAt);
            Assert.NotNull(failure);
            Assert.Equal("InvalidSignatureException", failure.Code);
        }
    }

    private static RequestAuthenticator Authenticator(SigningRequest request)
    {
        var credentials = new CredentialStore();
        credentials.Add(new EmulatorCredential(AccessKey, SecretKey, request.First("X-Amz-Security-Token")));
        return new RequestAuthenticator(credentials, [Region]);
    }

    /// <summary>Parses a .sreq (the signed request: request line, header lines with folded continuations, blank line,
    /// body) and gives it the .authz header. (In get-vanilla-with-session-token the two disagree; .authz is the one
    /// that matches .creq.)</summary>
    private static (SigningRequest Request, AuthorizationHeader Authorization) Load(string name)
    {
        var text = File.ReadAllText(Path.Combine(SuiteDirectory(), name + ".sreq"), Encoding.UTF8).Replace("\r\n", "\n", StringComparison.Ordinal);
        var blank = text.IndexOf("\n\n", StringComparison.Ordinal);
        var head = blank < 0 ? text : text[..blank];
        var body = blank < 0 ? string.Empty : text[(blank + 2)..];
        var lines = head.Split('\n');

        var requestLine = lines[0];
        var method = requestLine[..requestLine.IndexOf(' ', StringComparison.Ordinal)];
        var target = requestLine[(method.Length + 1)..requestLine.LastIndexOf(' ')];

        var headers = new List<KeyValuePair<string, string>>();
        foreach (var line in lines.Skip(1).Where(l => l.Length > 0 && !l.StartsWith("Authorization:", StringComparison.OrdinalIgnoreCase)))
        {
            if (char.IsWhiteSpace(line[0]))
            {
                var last = headers[^1];
                headers[^1] = new(last.Key, last.Value + "\n" + line);
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers.Add(new(line[..colon], line[(colon + 1)..].Trim()));
        }

        headers.Add(new("Authorization", File.ReadAllText(Path.Combine(SuiteDirectory(), name + ".authz")).Trim()));
        var request = new SigningRequest(method, target, headers, Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(body))).ToLowerInvariant());
        var authorization = AuthorizationHeader.TryParse(request.First("Authorization")!, out var problem);
        Assert.True(authorization is not null, problem);
        return (request, authorization);
    }

    private static string SuiteDirectory() => AwsDefinitions.SigV4TestSuite;
}
