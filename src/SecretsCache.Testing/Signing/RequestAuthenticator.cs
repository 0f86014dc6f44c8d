using System.Security.Cryptography;
using System.Text;

namespace SecretsCache.Testing.Signing;

/// <summary>Why a request was not authenticated: the AWS error code and message to answer with (HTTP 400).</summary>
internal sealed record AuthFailure(string Code, string Message);

/// <summary>
/// Verifies a request's SigV4 <c>Authorization</c> header against what actually arrived, in AWS's order: header
/// structure, signed <c>host</c> and <c>x-amz-date</c>, known access key and session token, credential scope, the
/// five-minute clock window, payload hash, and finally the signature itself. The scope may name any region served.
/// </summary>
internal sealed class RequestAuthenticator(CredentialStore credentials, IReadOnlyCollection<string> regions)
{
    private static readonly TimeSpan AllowedSkew = TimeSpan.FromMinutes(5);
    private const string SecurityTokenHeader = "x-amz-security-token";

    /// <summary>Returns null when the request is authentic. <paramref name="service"/> is the signing name the
    /// target requires, or null when the target is unknown (any scope service is then accepted).</summary>
    public AuthFailure? Authenticate(SigningRequest request, string? service, DateTimeOffset now)
    {
        var header = request.First("Authorization");
        if (string.IsNullOrEmpty(header))
        {
            return new("MissingAuthenticationTokenException", "Missing Authentication Token");
        }

        var authorization = AuthorizationHeader.TryParse(header, out var problem);
        if (authorization is null)
        {
            return Incomplete(problem!);
        }

        var amzDateText = request.First("X-Amz-Date");
        if (!SignatureCalculator.TryParseAmzDate(amzDateText, out var amzDate))
        {
            return Incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
        }

        if (!authorization.SignedHeaders.Contains("host", StringComparer.Ordinal))
        {
            return Incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
        }

        if (!authorization.SignedHeaders.Contains("x-amz-date", StringComparer.Ordinal))
        {
            return Incomplete("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
        }

        if (!string.Equals(authorization.ScopeTerminator, "aws4_request", StringComparison.Ordinal))
        {
            return Incomplete($"Credential should be scoped with a valid terminator: 'aws4_request', not '{authorization.ScopeTerminator}'.");
        }

        var credential = credentials.Find(authorization.AccessKeyId);
        if (credential is null || !SessionTokenMatches(credential, request.First(SecurityTokenHeader)))
        {
            return new("UnrecognizedClientException", "The security token included in the request is invalid.");
        }

        if (credential.SessionToken is not null && !authorization.SignedHeaders.Contains(SecurityTokenHeader, StringComparer.Ordinal))
        {
            return Invalid("'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.");
        }

        var dateStamp = amzDateText![..8];
        if (!string.Equals(authorization.ScopeDate, dateStamp, StringComparison.Ordinal))
        {
            return Invalid($"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{authorization.ScopeDate}' != '{dateStamp}', from '{amzDateText}'.");
        }

        if (!regions.Contains(authorization.ScopeRegion, StringComparer.Ordinal))
        {
            return Invalid($"Credential should be scoped to a valid region, not '{authorization.ScopeRegion}'. ");
        }

        if (service is not null && !string.Equals(authorization.ScopeService, service, StringComparison.Ordinal))
        {
            return Invalid($"Credential should be scoped to correct service: '{service}'. ");
        }

        if (ClockProblem(amzDate, amzDateText, now) is { } clock)
        {
            return Invalid(clock);
        }

        var payloadHash = request.BodySha256;
        if (request.First("x-amz-content-sha256") is { } declared && !string.Equals(declared, payloadHash, StringComparison.OrdinalIgnoreCase))
        {
            return Invalid("The provided 'x-amz-content-sha256' header does not match what was computed.");
        }

        var canonical = CanonicalRequest.Build(request, authorization.SignedHeaders, payloadHash);
        var expected = SignatureCalculator.ComputeSignature(credential.SecretAccessKey, authorization, amzDate, canonical);
        if (!SignatureCalculator.SignaturesMatch(expected, authorization.Signature))
        {
            var stringToSign = SignatureCalculator.StringToSign(authorization, amzDateText, canonical);
            return Invalid(
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\n" +
                $"The Canonical String for this request should have been\n'{canonical}'\n\nThe String-to-Sign should have been\n'{stringToSign}'\n");
        }

        return null;
    }

    private static string? ClockProblem(DateTimeOffset amzDate, string amzDateText, DateTimeOffset now)
    {
        string Format(DateTimeOffset value) => value.UtcDateTime.ToString(SignatureCalculator.AmzDateFormat, System.Globalization.CultureInfo.InvariantCulture);

        if (amzDate < now - AllowedSkew)
        {
            return $"Signature expired: {amzDateText} is now earlier than {Format(now - AllowedSkew)} ({Format(now)} - 5 min.)";
        }

        if (amzDate > now + AllowedSkew)
        {
            return $"Signature not yet current: {amzDateText} is still later than {Format(now + AllowedSkew)} ({Format(now)} + 5 min.)";
        }

        return null;
    }

    private static bool SessionTokenMatches(EmulatorCredential credential, string? token)
    {
        if (credential.SessionToken is null)
        {
            return token is null;
        }

        return token is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(credential.SessionToken));
    }

    private static AuthFailure Incomplete(string message) => new("IncompleteSignatureException", message);

    private static AuthFailure Invalid(string message) => new("InvalidSignatureException", message);
}
