using static SecretsCache.References.NameRules;

namespace SecretsCache.References;

/// <summary>
/// Turns reference text into a <see cref="SecretReference"/>. Pure: no I/O, and every error message names the problem
/// (never a value, since references carry names only). Limits follow the service models in shared/aws-models, and every
/// accepted reference's canonical text parses back to an equal reference (a property test holds it).
/// </summary>
internal static partial class ReferenceParser
{
    internal const string PassthroughPrefix = "/aws/reference/secretsmanager/";
    internal const string SecretsManagerScheme = "sm:";
    internal const string ParameterStoreScheme = "ssm:";
    internal const string CurrentStage = "AWSCURRENT";

    // SecretIdType max 2048 covers ARNs; NameType (the secret's own name) is 512.
    internal const int MaxSecretIdLength = 2048;
    internal const int MaxSecretNameLength = 512;

    // The name in a secret ARN: the secret's name and the "-" + 6 random characters Secrets Manager appends.
    internal const int MaxSecretArnNameLength = MaxSecretNameLength + 7;
    internal const int MaxParameterNameLength = 2048; // PSParameterName, which holds "name:selector" as one string
    internal const int MaxVersionStageLength = 256;   // SecretVersionStageType
    internal const int MinVersionIdLength = 32;       // SecretVersionIdType
    internal const int MaxVersionIdLength = 64;
    internal const int MaxLabelLength = 100;          // ParameterLabel

    // The longest text a valid reference has: "sm:", a 2048-character ARN and "?stage=" with 256 characters escaped, each at
    // most 9 (a three-byte UTF-8 character, %XX%XX%XX). The canonical text is no longer, so it always passes this check.
    internal const int MaxReferenceLength = 3 + MaxSecretIdLength + 7 + (MaxVersionStageLength * 9);

    private const int MaxPrefixLength = 16;

    public static SecretReference? Parse(string text, out string? error)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Fail("A secret reference must not be empty.", out error);
        }

        if (text.Length > MaxReferenceLength)
        {
            return Fail($"The secret reference is {text.Length} characters long; the longest name or ARN AWS accepts is {MaxSecretIdLength}.", out error);
        }

        if (text.Trim().Length != text.Length)
        {
            return Fail("A secret reference must not start or end with white space.", out error);
        }

        if (HasLoneSurrogate(text))
        {
            return Fail("The secret reference holds a lone surrogate (half of a UTF-16 pair), which is not text AWS can read.", out error);
        }

        if (text.StartsWith(SecretsManagerScheme, StringComparison.Ordinal))
        {
            return ParseSecretsManager(text[SecretsManagerScheme.Length..], out error);
        }

        if (text.StartsWith(ParameterStoreScheme, StringComparison.Ordinal))
        {
            return ParseParameterStore(text[ParameterStoreScheme.Length..], out error);
        }

        if (text.StartsWith(PassthroughPrefix, StringComparison.Ordinal))
        {
            return ParseParameterStore(text, out error);
        }

        if (text.StartsWith("arn:", StringComparison.Ordinal))
        {
            var arn = AwsArn.TryParse(StripQuery(text), out error);
            if (arn is null)
            {
                return null;
            }

            return arn.Service switch
            {
                "secretsmanager" => ParseSecretsManager(text, out error),
                "ssm" => ParseParameterStore(text, out error),
                _ => Fail($"The ARN names the service {ReferenceQuote.Quote(arn.Service)}; only 'secretsmanager' and 'ssm' ARNs are supported.", out error),
            };
        }

        // Secrets Manager names cannot contain ':', so "word:..." is a mistyped prefix (SSM:, ssn:, ARN:) rather than a name.
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && IsPrefixLike(text.AsSpan(0, colon)))
        {
            return Fail(UnknownPrefix(text[..colon]), out error);
        }

        return ParseSecretsManager(text, out error);
    }

    /// <summary>Checks a Parameter Store path for GetParametersByPath; returns it without an <c>ssm:</c> prefix.</summary>
    public static string? ParsePath(string text, out string? error)
    {
        var path = CheckPath(text, out error);
        error = error is null ? null : $"Invalid parameter path {ReferenceQuote.Quote(text)}: {error}";
        return path;
    }

    private static string? CheckPath(string text, out string? error)
    {
        var path = text.StartsWith(ParameterStoreScheme, StringComparison.Ordinal) ? text[ParameterStoreScheme.Length..] : text;
        if (path.Length == 0 || path[0] != '/')
        {
            error = "A parameter path must start with '/', for example '/app/prod/'.";
            return null;
        }

        if (path.Length > MaxParameterNameLength)
        {
            error = $"The parameter path is {path.Length} characters long; the limit is {MaxParameterNameLength}.";
            return null;
        }

        if (path.StartsWith(PassthroughPrefix, StringComparison.Ordinal) || path == PassthroughPrefix.TrimEnd('/'))
        {
            error = "Secrets Manager references cannot be listed by path; read each secret by name.";
            return null;
        }

        if (path.Length > 1 && !IsValidParameterName(path.TrimEnd('/'), out error))
        {
            return null;
        }

        error = null;
        return path;
    }

    private static SecretReference? ParseSecretsManager(string text, out string? error)
    {
        var queryStart = text.IndexOf('?', StringComparison.Ordinal);
        var id = queryStart < 0 ? text : text[..queryStart];
        string? stage = null;
        string? versionId = null;

        if (queryStart >= 0 && !TryParseQuery(text[(queryStart + 1)..], ref stage, ref versionId, out error))
        {
            return null;
        }

        AwsArn? arn = null;
        if (id.StartsWith("arn:", StringComparison.Ordinal))
        {
            arn = AwsArn.TryParse(id, out error);
            if (arn is null)
            {
                return null;
            }

            if (arn.Service != "secretsmanager" || !arn.Resource.StartsWith("secret:", StringComparison.Ordinal))
            {
                return Fail("A Secrets Manager ARN must look like 'arn:aws:secretsmanager:region:account-id:secret:name'.", out error);
            }

            if (id.Length > MaxSecretIdLength)
            {
                return Fail($"The secret ARN is {id.Length} characters long; the limit is {MaxSecretIdLength}.", out error);
            }

            if (!IsValidArnSecretName(arn.Resource["secret:".Length..], out error))
            {
                return null;
            }
        }
        else
        {
            if (id.Length > MaxSecretNameLength)
            {
                return Fail($"The secret name is {id.Length} characters long; the limit is {MaxSecretNameLength}.", out error);
            }

            if (!IsValidSecretName(id, out error))
            {
                return null;
            }
        }

        if (stage == CurrentStage && versionId is null)
        {
            stage = null; // AWSCURRENT is what GetSecretValue reads by default: one cache entry for both spellings.
        }

        error = null;
        return new SecretReference(SecretStore.SecretsManager, id, versionStage: stage, versionId: versionId, arn: arn);
    }

    private static bool IsValidArnSecretName(string name, out string? error)
    {
        if (name.Length > MaxSecretArnNameLength)
        {
            error = $"The secret name in the ARN is {name.Length} characters long; the limit is {MaxSecretArnNameLength} " +
                $"(a {MaxSecretNameLength}-character name and the 7-character suffix Secrets Manager appends).";
            return false;
        }

        return IsValidSecretName(name, out error);
    }

    private static bool TryParseQuery(string query, ref string? stage, ref string? versionId, out string? error)
    {
        if (query.Length == 0)
        {
            error = "The reference ends with '?' but names no version: use '?stage=NAME' or '?versionId=ID'.";
            return false;
        }

        foreach (var pair in query.Split('&'))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var key = eq < 0 ? pair : pair[..eq];
            var value = eq < 0 ? string.Empty : Uri.UnescapeDataString(pair[(eq + 1)..]);
            switch (key)
            {
                case "stage" when stage is null:
                    if (value.Length is 0 or > MaxVersionStageLength)
                    {
                        error = $"A version stage must be 1 to {MaxVersionStageLength} characters long.";
                        return false;
                    }

                    stage = value;
                    break;
                case "versionId" when versionId is null:
                    if (value.Length is < MinVersionIdLength or > MaxVersionIdLength)
                    {
                        error = $"A version id must be {MinVersionIdLength} to {MaxVersionIdLength} characters long.";
                        return false;
                    }

                    versionId = value;
                    break;
                case "stage" or "versionId":
                    error = $"The reference names '{key}' twice.";
                    return false;
                default:
                    error = $"Unknown reference option {ReferenceQuote.Quote(key)}: use 'stage' or 'versionId'.";
                    return false;
            }

            if (HasLoneSurrogate(value))
            {
                error = "The version in the reference holds a lone surrogate (half of a UTF-16 pair), which is not text AWS can read.";
                return false;
            }
        }

        if (stage is not null && versionId is not null)
        {
            error = "Choose a version by 'stage' or by 'versionId', not both.";
            return false;
        }

        error = null;
        return true;
    }

    // A short run of ASCII letters and digits, starting with a letter: "SSM", "ssn", "ARN", "secretsmanager", "s3".
    private static bool IsPrefixLike(ReadOnlySpan<char> run)
    {
        if (run.Length > MaxPrefixLength || !char.IsAsciiLetter(run[0]))
        {
            return false;
        }

        foreach (var c in run)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static string UnknownPrefix(string prefix)
    {
        var known = $"Unknown prefix '{prefix}:'; prefixes are '{SecretsManagerScheme}' and '{ParameterStoreScheme}'";
        if (prefix.Equals("sm", StringComparison.OrdinalIgnoreCase) || prefix.Equals("ssm", StringComparison.OrdinalIgnoreCase))
        {
            return known + ", in lower case.";
        }

        return prefix.Equals("arn", StringComparison.OrdinalIgnoreCase)
            ? known + ", and an ARN must start with 'arn:' in lower case."
            : known + " (a secret name cannot contain ':').";
    }

    private static string StripQuery(string text)
    {
        var q = text.IndexOf('?', StringComparison.Ordinal);
        return q < 0 ? text : text[..q];
    }

    private static SecretReference? Fail(string message, out string? error)
    {
        error = message;
        return null;
    }
}
