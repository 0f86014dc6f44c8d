using System.Net;
using System.Text;
using SecretsCache.IntegrationTests.Emulator.Support;
using SecretsCache.Testing;

namespace SecretsCache.IntegrationTests.Emulator;

/// <summary>Every way a request's SigV4 signature is refused, over real HTTP.</summary>
public sealed class SignatureTests
{
    private const string Target = "secretsmanager.GetSecretValue";
    private static readonly object Body = new { SecretId = "app/db" };

    [Fact]
    public async Task Valid_signature_is_accepted()
    {
        await using var session = await StartAsync();

        var response = await session.Client.SendAsync(Target, Body);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal(0, session.Emulator.Requests.Rejected);
    }

    [Fact]
    public async Task Missing_authorization_is_MissingAuthenticationTokenException()
    {
        await using var session = await StartAsync();

        var response = await session.Client.SendAsync(Target, Body, afterSigning: r => r.Headers.Remove("Authorization"));

        AssertRejected(session, response, "MissingAuthenticationTokenException", "Missing Authentication Token");
    }

    [Fact]
    public async Task Unknown_access_key_is_UnrecognizedClientException()
    {
        await using var session = await StartAsync();

        var response = await session.Client.SendAsync(Target, Body, session.Client.Signing with { AccessKeyId = "AKIAUNKNOWN000000000" });

        AssertRejected(session, response, "UnrecognizedClientException", "The security token included in the request is invalid.");
    }

    [Fact]
    public async Task Wrong_secret_key_is_InvalidSignatureException_with_the_canonical_request()
    {
        await using var session = await StartAsync();

        var response = await session.Client.SendAsync(Target, Body, session.Client.Signing with { SecretAccessKey = "not-the-secret" });

        AssertRejected(session, response, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided.");
        Assert.Contains("The Canonical String for this request should have been\n'POST\n/\n", response.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tampered_body_is_rejected()
    {
        await using var session = await StartAsync();

        var response = await session.Client.SendAsync(Target, Body, afterSigning: r =>
        {
            var headers = r.Content!.Headers;
            r.Content = new ByteArrayContent(Encoding.UTF8.GetBytes("{\"SecretId\":\"app/other\"}"));
            r.Content.Headers.ContentType = headers.ContentType;
        });

        AssertRejected(session, response, "InvalidSignatureException", "The request signature we calculated does not match");
    }

    [Fact]
    public async Task Tampered_signed_header_is_rejected()
    {
        await using var session = await StartAsync();

        var response = await session.Client.SendAsync(Target, Body, afterSigning: r =>
        {
            r.Headers.Remove("X-Amz-Target");
            r.Headers.TryAddWithoutValidation("X-Amz-Target", "secretsmanager.DescribeSecret");
        });

        AssertRejected(session, response, "InvalidSignatureException", "The request signature we calculated does not match");
    }

    [Fact]
    public async Task Mismatched_content_sha256_header_is_rejected()
    {
        await using var session = await StartAsync();

        var response = await session.Client.SendAsync(Target, Body, afterSigning: r => r.Headers.TryAddWithoutValidation("x-amz-content-sha256", new string('0', 64)));

        AssertRejected(session, response, "InvalidSignatureException", "x-amz-content-sha256");
    }

    [Fact]
    public async Task Expired_signature_quotes_AWS_message()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
        await using var session = await StartAsync(time);

        var response = await session.Client.SendAsync(Target, Body, session.Client.Signing with { SignedAt = time.GetUtcNow().AddMinutes(-6) });

        AssertRejected(session, response, "InvalidSignatureException", "Signature expired: 20261123T115400Z is now earlier than 20261123T115500Z (20261123T120000Z - 5 min.)");
    }

    [Fact]
    public async Task Signature_from_the_future_is_not_yet_current()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
        await using var session = await StartAsync(time);

        var response = await session.Client.SendAsync(Target, Body, session.Client.Signing with { SignedAt = time.GetUtcNow().AddMinutes(6) });

        AssertRejected(session, response, "InvalidSignatureException", "Signature not yet current: 20261123T120600Z is still later than 20261123T120500Z (20261123T120000Z + 5 min.)");
    }

    [Fact]
    public async Task Signature_within_five_minutes_is_accepted()
    {
        var time = new FakeTimeProvider();
        await using var session = await StartAsync(time);

        var late = await session.Client.SendAsync(Target, Body, session.Client.Signing with { SignedAt = time.GetUtcNow().AddMinutes(-4) });
        var early = await session.Client.SendAsync(Target, Body, session.Client.Signing with { SignedAt = time.GetUtcNow().AddMinutes(4) });

        Assert.Equal(HttpStatusCode.OK, late.Status);
        Assert.Equal(HttpStatusCode.OK, early.Status);
    }

    [Fact]
    public async Task Wrong_region_or_service_in_scope_is_rejected()
    {
        await using var session = await StartAsync();

        var region = await session.Client.SendAsync(Target, Body, session.Client.Signing with { Region = "eu-west-1" });
        AssertRejected(session, region, "InvalidSignatureException", "Credential should be scoped to a valid region");
        var service = await session.Client.SendAsync(Target, Body, session.Client.Signing with { Service = "ssm" });

        Assert.Equal("InvalidSignatureException", service.ErrorType);
        Assert.Contains("Credential should be scoped to correct service: 'secretsmanager'", service.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unsigned_host_is_IncompleteSignatureException()
    {
        await using var session = await StartAsync();

        var response = await session.Client.SendAsync(Target, Body, session.Client.Signing with { SignHost = false });

        AssertRejected(session, response, "IncompleteSignatureException", "'Host' or ':authority' must be a 'SignedHeader'");
    }

    [Fact]
    public async Task Session_credentials_require_a_signed_token()
    {
        await using var session = await StartAsync();
        session.Emulator.AddCredentials("ASIATEMPORARY0000000", "temporary-secret", "session-token-value");
        var temporary = session.Client.Signing with { AccessKeyId = "ASIATEMPORARY0000000", SecretAccessKey = "temporary-secret" };

        var ok = await session.Client.SendAsync(Target, Body, temporary with { SessionToken = "session-token-value" });
        var missing = await session.Client.SendAsync(Target, Body, temporary);
        var wrong = await session.Client.SendAsync(Target, Body, temporary with { SessionToken = "another-token" });
        var unsigned = await session.Client.SendAsync(Target, Body, temporary with { SessionToken = "session-token-value", SignSessionToken = false });

        Assert.Equal(HttpStatusCode.OK, ok.Status);
        Assert.Equal("UnrecognizedClientException", missing.ErrorType);
        Assert.Equal("UnrecognizedClientException", wrong.ErrorType);
        Assert.Equal("InvalidSignatureException", unsigned.ErrorType);
        Assert.Equal(3, session.Emulator.Requests.Rejected);
    }

    [Fact]
    public async Task Token_sent_with_long_term_credentials_is_rejected()
    {
        await using var session = await StartAsync();

        var response = await session.Client.SendAsync(Target, Body, session.Client.Signing with { SessionToken = "stale-token" });

        AssertRejected(session, response, "UnrecognizedClientException", "The security token included in the request is invalid.");
    }

    private static async Task<EmulatorSession> StartAsync(FakeTimeProvider? time = null)
    {
        var session = await EmulatorSession.StartAsync(time is null ? null : new AwsEmulatorOptions { TimeProvider = time });
        session.Emulator.CreateSecret("app/db", "s3cr3t");
        return session;
    }

    private static void AssertRejected(EmulatorSession session, AwsResponse response, string errorType, string messageStart)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal(errorType, response.ErrorType);
        Assert.Contains(messageStart, response.Message, StringComparison.Ordinal);
        Assert.Equal(1, session.Emulator.Requests.Rejected);
        Assert.Equal(0, session.Emulator.Requests.Count(Target));
        Assert.Equal(EmulatorOutcome.AuthFailed, session.Emulator.Requests.Snapshot().Single().Outcome);
    }
}
