using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Amazon.Runtime.Internal.Auth;

namespace SecretsCache.Testing.Signing;

/// <summary>Computes the signature a request should carry, from our canonical request, with AWSSDK.Core's SigV4 signer.</summary>
internal static class SignatureCalculator
{
    public const string AmzDateFormat = "yyyyMMdd'T'HHmmss'Z'";

    public static bool TryParseAmzDate(string? value, out DateTimeOffset date) =>
        DateTimeOffset.TryParseExact(value, AmzDateFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out date);

    public static string ComputeSignature(string secretAccessKey, AuthorizationHeader authorization, DateTimeOffset signedAt, string canonicalRequest) =>
        AWS4Signer.ComputeSignature(
            authorization.AccessKeyId,
            secretAccessKey,
            authorization.ScopeRegion,
            signedAt.UtcDateTime,
            authorization.ScopeService,
            string.Join(';', authorization.SignedHeaders),
            canonicalRequest).Signature;

    public static bool SignaturesMatch(string expected, string provided) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(provided));

    /// <summary>The string to sign, for the mismatch message that helps a client author find their mistake.</summary>
    public static string StringToSign(AuthorizationHeader authorization, string amzDate, string canonicalRequest)
    {
        var scope = $"{authorization.ScopeDate}/{authorization.ScopeRegion}/{authorization.ScopeService}/{authorization.ScopeTerminator}";
        var hash = Hex.Sha256(Encoding.UTF8.GetBytes(canonicalRequest));
        return $"{AuthorizationHeader.Sigv4Algorithm}\n{amzDate}\n{scope}\n{hash}";
    }
}
