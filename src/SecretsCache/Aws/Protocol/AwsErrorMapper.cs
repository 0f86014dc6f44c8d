using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace SecretsCache.Aws.Protocol;

/// <summary>
/// Turns an AWS error (HTTP status, <c>__type</c>, message) into the typed exception family. The retryable codes and statuses are
/// those of AWS's retry definitions (shared/aws-models/common/_retry.json, "__default__" policies); a test holds the two in step.
/// </summary>
internal static partial class AwsErrorMapper
{
    /// <summary>The most characters of AWS's own message kept in an exception (and so in a log line).</summary>
    public const int MaxServerText = 300;

    private const int MaxCodeLength = 128;

    private static readonly SearchValues<char> CodeCharacters = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.");

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

    /// <summary>
    /// The code without a namespace or suffix: <c>aws.protocoltests#FooError:http://...</c> becomes <c>FooError</c>. Anything
    /// that is not a short identifier (a proxy's HTML, a megabyte of text) is no code at all: it would become a metric tag.
    /// </summary>
    public static string NormalizeCode(string? type)
    {
        if (string.IsNullOrEmpty(type))
        {
            return string.Empty;
        }

        var hash = type.LastIndexOf('#');
        var code = hash >= 0 ? type.AsSpan(hash + 1) : type.AsSpan();
        var colon = code.IndexOf(':');
        if (colon >= 0)
        {
            code = code[..colon];
        }

        return code.Length is > 0 and <= MaxCodeLength && !code.ContainsAnyExcept(CodeCharacters) ? code.ToString() : string.Empty;
    }

    /// <summary>
    /// AWS's text made fit for an exception message or a log line: at most <see cref="MaxServerText"/> characters, and
    /// control, format and separator characters (which could forge log lines or reorder text) escaped as <c>\uXXXX</c>.
    /// </summary>
    public static string Sanitize(string text)
    {
        var builder = new StringBuilder(Math.Min(text.Length, MaxServerText) + 32);
        var kept = Math.Min(text.Length, MaxServerText);
        if (kept < text.Length && char.IsHighSurrogate(text[kept - 1]))
        {
            kept--; // do not cut a surrogate pair in two
        }

        for (var i = 0; i < kept; i++)
        {
            var c = text[i];
            var paired = char.IsHighSurrogate(c) ? i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) : char.IsLowSurrogate(c) && i > 0 && char.IsHighSurrogate(text[i - 1]);
            switch (c)
            {
                case '\r': builder.Append(@"\r"); break;
                case '\n': builder.Append(@"\n"); break;
                case '\t': builder.Append(@"\t"); break;
                default:
                    var category = char.GetUnicodeCategory(c);
                    if (category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
                        || (category == UnicodeCategory.Surrogate && !paired))
                    {
                        builder.Append(@"\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        builder.Append(c);
                    }

                    break;
            }
        }

        if (kept < text.Length)
        {
            builder.Append(CultureInfo.InvariantCulture, $"... (truncated from {text.Length:N0} characters)");
        }

        return builder.ToString();
    }

    public static bool IsThrottling(string code, int status) => ThrottlingCodes.Contains(code) || status == (int)HttpStatusCode.TooManyRequests;

    public static bool IsTransientStatus(int status) => TransientStatuses.Contains(status);

    /// <summary>True when AWS rejected the request for the time it was signed: the signing clock is skewed.</summary>
    public static bool IsClockSkew(string code, string? message) =>
        code is "RequestExpired" or "RequestTimeTooSkewed" or "RequestInTheFuture"
        || (code == "InvalidSignatureException" && message is not null
            && (message.Contains("Signature expired", StringComparison.OrdinalIgnoreCase) || message.Contains("not yet current", StringComparison.OrdinalIgnoreCase)));

    /// <summary>An error answer: its HTTP status, and the <c>__type</c> and message of its body.</summary>
    public static SecretsCacheException Map(string service, int status, string? type, string? awsMessage, string? reference) =>
        Map(service, (int?)status, type, awsMessage, reference);

    /// <summary>
    /// One entry of a successful answer's error list (BatchGetSecretValue's <c>Errors</c>): a code and a message, and no HTTP
    /// status of its own, so only the code decides.
    /// </summary>
    public static SecretsCacheException MapEntryError(string service, string? errorCode, string? awsMessage, string reference) =>
        Map(service, null, errorCode, awsMessage, reference);

    private static SecretsCacheException Map(string service, int? httpStatus, string? type, string? awsMessage, string? reference)
    {
        var code = NormalizeCode(type);
        var errorCode = code.Length == 0 ? null : code;
        var status = httpStatus ?? 0; // 0 matches no status rule
        var what = reference is null ? service : $"'{reference}'";
        var said = string.IsNullOrEmpty(awsMessage) ? null : Sanitize(awsMessage);
        var detail = said is null ? string.Empty : $": {said}";
        var bare = httpStatus is null ? "no error code" : $"HTTP {status}";
        var shown = code.Length == 0 ? bare : code;
        var shownWithStatus = code.Length == 0 ? bare : httpStatus is null ? code : $"{code}, HTTP {status}";

        if (IsThrottling(code, status))
        {
            return new SecretThrottledException($"AWS {service} throttled the request for {what} ({shown}){detail}", reference, errorCode);
        }

        if (NotFoundCodes.Contains(code))
        {
            return new SecretNotFoundException($"AWS {service} has no {what} ({code}){detail}", reference, code);
        }

        if (DecryptionCodes.Contains(code))
        {
            return new SecretDecryptionException(
                WithHint($"AWS {service} could not decrypt {what} ({code}){detail}", "Check that the KMS key is enabled and that the caller may use it (kms:Decrypt)."), reference, code);
        }

        if (code is "AccessDeniedException" or "AccessDenied" || status == (int)HttpStatusCode.Forbidden && !CredentialCodes.Contains(code))
        {
            return new SecretAccessDeniedException(WithHint($"AWS {service} denied access to {what} ({shown}){detail}", AccessDeniedHint(said)), reference, errorCode);
        }

        if (CredentialCodes.Contains(code))
        {
            return new SecretAccessDeniedException(
                WithHint($"AWS {service} rejected the request's credentials ({code}){detail}", "Check the access key, secret key and session token, and the clock."), reference, code);
        }

        if (code is "InternalServiceError" or "InternalServerError" or "InternalFailure" or "ServiceUnavailable" || IsTransientStatus(status))
        {
            return new SecretServiceUnavailableException($"AWS {service} failed while reading {what} ({shownWithStatus}){detail}", reference, errorCode);
        }

        return new SecretRequestException($"AWS {service} rejected the request for {what} ({shownWithStatus}){detail}", reference, errorCode);
    }

    /// <summary>One full stop between AWS's text and ours, whether or not AWS ended its sentence.</summary>
    private static string WithHint(string message, string hint) => $"{message.TrimEnd('.', ' ')}. {hint}";

    /// <summary>Worded from what AWS said: KMS when it names KMS, the action its message names, else the usual suspects.</summary>
    private static string AccessDeniedHint(string? said)
    {
        var action = said is null ? null : ActionPattern().Match(said) is { Success: true } match ? match.Value : null;
        if (action?.StartsWith("kms:", StringComparison.Ordinal) == true || said is not null && KmsPattern().IsMatch(said))
        {
            return "AWS names KMS: check that the KMS key that encrypts it is enabled, and that the key policy and the caller's IAM policy allow kms:Decrypt.";
        }

        return action is not null
            ? $"The caller's IAM policy lacks {action} on it (or a resource policy, permission boundary or SCP denies it)."
            : "Check the caller's read permission on the secret or parameter (secretsmanager:GetSecretValue, ssm:GetParameter*) and, for a customer-managed KMS key, kms:Decrypt.";
    }

    /// <summary>An IAM action of the services involved, as AWS's access-denied messages name it (an ARN's <c>kms:eu-west-1</c> does not match).</summary>
    [GeneratedRegex(@"\b(?:secretsmanager|ssm|kms):[A-Z][A-Za-z]{2,63}\b", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex ActionPattern();

    [GeneratedRegex(@"\bkms\b", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase, matchTimeoutMilliseconds: 100)]
    private static partial Regex KmsPattern();
}
