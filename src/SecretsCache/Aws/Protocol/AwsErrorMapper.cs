using System.Net;

namespace SecretsCache.Aws.Protocol;

/// <summary>
/// Turns an AWS error (HTTP status, <c>__type</c>, message) into the typed exception family. The retryable codes and statuses are
/// those of AWS's retry definitions (shared/aws-models/common/_retry.json, "__default__" policies); a test holds the two in step.
/// </summary>
internal static class AwsErrorMapper
{
    private static readonly HashSet<string> ThrottlingCodes = new(StringComparer.Ordinal)
    {
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "ProvisionedThroughputExceededException",
        "TooManyRequestsException", "RequestLimitExceeded", "RequestThrottled",
    };

    private static readonly HashSet<int> TransientStatuses = [500, 502, 503, 504, 509];

    private static readonly HashSet<string> NotFoundCodes = new(StringComparer.Ordinal)
    {
        "ResourceNotFoundException", "ParameterNotFound", "ParameterVersionNotFound",
    };

    private static readonly HashSet<string> CredentialCodes = new(StringComparer.Ordinal)
    {
        "UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException", "SignatureDoesNotMatch",
        "MissingAuthenticationTokenException", "IncompleteSignature", "ExpiredTokenException", "ExpiredToken",
    };

    private static readonly HashSet<string> DecryptionCodes = new(StringComparer.Ordinal)
    {
        "DecryptionFailure", "InvalidKeyId", "KMSAccessDeniedException", "KMSDisabledException", "KMSInvalidStateException", "KMSNotFoundException",
    };

    /// <summary>The code without a namespace or suffix: <c>aws.protocoltests#FooError:http://...</c> becomes <c>FooError</c>.</summary>
    public static string NormalizeCode(string? type)
    {
        if (string.IsNullOrEmpty(type))
        {
            return string.Empty;
        }

        var hash = type.LastIndexOf('#');
        var code = hash >= 0 ? type[(hash + 1)..] : type;
        var colon = code.IndexOf(':', StringComparison.Ordinal);
        return colon >= 0 ? code[..colon] : code;
    }

    public static bool IsThrottling(string code, int status) => ThrottlingCodes.Contains(code) || status == (int)HttpStatusCode.TooManyRequests;

    public static bool IsTransientStatus(int status) => TransientStatuses.Contains(status);

    /// <summary>True when AWS rejected the request for the time it was signed: the signing clock is skewed.</summary>
    public static bool IsClockSkew(string code, string? message) =>
        code is "RequestExpired" or "RequestTimeTooSkewed" or "RequestInTheFuture"
        || (code == "InvalidSignatureException" && message is not null
            && (message.Contains("Signature expired", StringComparison.OrdinalIgnoreCase) || message.Contains("not yet current", StringComparison.OrdinalIgnoreCase)));

    public static SecretsCacheException Map(string service, int status, string? type, string? awsMessage, string? reference)
    {
        var code = NormalizeCode(type);
        var what = reference is null ? service : $"'{reference}'";
        var detail = string.IsNullOrEmpty(awsMessage) ? string.Empty : $": {awsMessage}";
        var shown = code.Length == 0 ? $"HTTP {status}" : code;

        if (IsThrottling(code, status))
        {
            return new SecretThrottledException($"AWS {service} throttled the request for {what} ({shown}){detail}", reference, code.Length == 0 ? null : code);
        }

        if (NotFoundCodes.Contains(code))
        {
            return new SecretNotFoundException($"AWS {service} has no {what} ({code}){detail}", reference, code);
        }

        if (DecryptionCodes.Contains(code))
        {
            return new SecretDecryptionException(
                $"AWS {service} could not decrypt {what} ({code}){detail}. Check that the KMS key is enabled and that the caller may use it (kms:Decrypt).", reference, code);
        }

        if (code is "AccessDeniedException" or "AccessDenied" || status == (int)HttpStatusCode.Forbidden && !CredentialCodes.Contains(code))
        {
            return new SecretAccessDeniedException(
                $"AWS {service} denied access to {what} ({shown}){detail}. The usual cause is a missing kms:Decrypt permission on the KMS key that encrypts it, or a missing read permission on the secret or parameter.",
                reference,
                code.Length == 0 ? null : code);
        }

        if (CredentialCodes.Contains(code))
        {
            return new SecretAccessDeniedException(
                $"AWS {service} rejected the request's credentials ({code}){detail}. Check the access key, secret key and session token, and the clock.", reference, code);
        }

        if (code is "InternalServiceError" or "InternalServerError" or "InternalFailure" or "ServiceUnavailable" || IsTransientStatus(status))
        {
            return new SecretServiceUnavailableException($"AWS {service} failed while reading {what} ({shown}, HTTP {status}){detail}", reference, code.Length == 0 ? null : code);
        }

        return new SecretRequestException($"AWS {service} rejected the request for {what} ({shown}, HTTP {status}){detail}", reference, code.Length == 0 ? null : code);
    }
}
