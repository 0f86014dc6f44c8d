namespace SecretsCache.References;

/// <summary>
/// Turns reference text into a <see cref="SecretReference"/>. Pure: no I/O, and every error message names the problem
/// (never a value, since references carry names only). Limits follow the service models in shared/aws-models.
/// </summary>
internal static class ReferenceParser
{
    internal const string PassthroughPrefix = "/aws/reference/secretsmanager/";
    internal const string SecretsManagerScheme = "sm:";
    internal const string ParameterStoreScheme = "ssm:";
    internal const string CurrentStage = "AWSCURRENT";

    // SecretIdType max 2048 covers ARNs; NameType (the secret's own name) is 512.
    internal const int MaxSecretIdLength = 2048;
    internal const int MaxSecretNameLength = 512;
    internal const int MaxParameterNameLength = 2048; // PSParameterName
    internal const int MaxVersionStageLength = 256;   // SecretVersionStageType
    internal const int MinVersionIdLength = 32;       // SecretVersionIdType
    internal const int MaxVersionIdLength = 64;
    internal const int MaxLabelLength = 100;
    internal const int MaxReferenceLength = MaxSecretIdLength + 300;

    public static SecretReference? Parse(string text, out string? error)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "A secret reference must not be empty.";
            return null;
        }

        if (text.Length > MaxReferenceLength)
        {
            error = $"The secret reference is {text.Length} characters long; the longest name or ARN AWS accepts is {MaxSecretIdLength}.";
            return null;
        }

        if (text.Trim().Length != text.Length)
        {
            error = "A secret reference must not start or end with white space.";
            return null;
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
                _ => Fail($"The ARN names the service '{arn.Service}'; only 'secretsmanager' and 'ssm' ARNs are supported.", out error),
            };
        }

        return ParseSecretsManager(text, out error);
    }

    /// <summary>Checks a Parameter Store path for GetParametersByPath; returns it without an <c>ssm:</c> prefix.</summary>
    public static string? ParsePath(string text, out string? error)
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

            if (!IsValidSecretName(arn.Resource["secret:".Length..], out error))
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
                    error = $"Unknown reference option '{key}': use 'stage' or 'versionId'.";
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

    private static SecretReference? ParseParameterStore(string text, out string? error)
    {
        if (text.Contains('?', StringComparison.Ordinal))
        {
            return Fail("Parameter Store references select a version with ':version' or ':label', not with '?'.", out error);
        }

        AwsArn? arn = null;
        string name;
        string? selector;
        if (text.StartsWith("arn:", StringComparison.Ordinal))
        {
            arn = AwsArn.TryParse(text, out error);
            if (arn is null)
            {
                return null;
            }

            if (arn.Service != "ssm" || !arn.Resource.StartsWith("parameter", StringComparison.Ordinal))
            {
                return Fail("An SSM parameter ARN must look like 'arn:aws:ssm:region:account-id:parameter/name'.", out error);
            }

            // The resource is "parameter/name" or "parameter/name:selector"; parameter names never contain ':'.
            var resource = arn.Resource;
            var colon = resource.IndexOf(':', StringComparison.Ordinal);
            selector = colon < 0 ? null : resource[(colon + 1)..];
            var arnPrefixLength = text.Length - resource.Length;
            name = colon < 0 ? text : text[..(arnPrefixLength + colon)];
            var parameterPath = (colon < 0 ? resource : resource[..colon])["parameter".Length..];
            if (parameterPath.Length < 2 || parameterPath[0] != '/')
            {
                return Fail("An SSM parameter ARN must name a parameter after 'parameter/'.", out error);
            }

            if (!IsValidParameterName(parameterPath, out error))
            {
                return null;
            }
        }
        else if (text.StartsWith(PassthroughPrefix + "arn:", StringComparison.Ordinal))
        {
            // A secret ARN through the passthrough: arn:partition:secretsmanager:region:account:secret:name, then an optional :selector.
            var parts = text[PassthroughPrefix.Length..].Split(':');
            if (parts.Length is < 7 or > 8)
            {
                return Fail("A passthrough ARN must look like '/aws/reference/secretsmanager/arn:aws:secretsmanager:region:account-id:secret:name[:stage]'.", out error);
            }

            var secretArn = string.Join(':', parts[..7]);
            if (AwsArn.TryParse(secretArn, out error) is not { Service: "secretsmanager", Resource: var resource } || !resource.StartsWith("secret:", StringComparison.Ordinal))
            {
                return Fail(error ?? "A passthrough ARN must name a Secrets Manager secret.", out error);
            }

            return ParsePassthroughArn(PassthroughPrefix + secretArn, resource["secret:".Length..], parts.Length == 8 ? parts[7] : null, out error);
        }
        else
        {
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            name = colon < 0 ? text : text[..colon];
            selector = colon < 0 ? null : text[(colon + 1)..];

            // A passthrough names a secret, whose names allow + = @ too; ParsePassthrough checks it as a secret name.
            if (!name.StartsWith(PassthroughPrefix, StringComparison.Ordinal) && !IsValidParameterName(name, out error))
            {
                return null;
            }
        }

        if (name.Length > MaxParameterNameLength)
        {
            return Fail($"The parameter name is {name.Length} characters long; the limit is {MaxParameterNameLength}.", out error);
        }

        if (name.StartsWith(PassthroughPrefix, StringComparison.Ordinal))
        {
            return ParsePassthrough(name, selector, out error);
        }

        if (selector is null)
        {
            error = null;
            return new SecretReference(SecretStore.ParameterStore, name, arn: arn);
        }

        if (selector.Length == 0)
        {
            return Fail("The reference ends with ':' but names no version or label.", out error);
        }

        if (char.IsAsciiDigit(selector[0]))
        {
            if (!long.TryParse(selector, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version) || version < 1)
            {
                return Fail("A parameter version must be a whole number from 1 up.", out error);
            }

            error = null;
            return new SecretReference(SecretStore.ParameterStore, name, parameterVersion: version, arn: arn);
        }

        if (!IsValidLabel(selector, out error))
        {
            return null;
        }

        return new SecretReference(SecretStore.ParameterStore, name, parameterLabel: selector, arn: arn);
    }

    private static SecretReference? ParsePassthrough(string name, string? selector, out string? error)
    {
        var secretName = name[PassthroughPrefix.Length..];
        if (secretName.Length == 0)
        {
            return Fail($"A passthrough reference must name a secret after '{PassthroughPrefix}'.", out error);
        }

        return ParsePassthroughArn(name, secretName, selector, out error);
    }

    private static SecretReference? ParsePassthroughArn(string name, string secretName, string? selector, out string? error)
    {
        if (!IsValidSecretName(secretName, out error))
        {
            return null;
        }

        if (selector is null)
        {
            return new SecretReference(SecretStore.ParameterStore, name, isPassthrough: true);
        }

        if (selector.Length is 0 or > MaxVersionStageLength)
        {
            return Fail($"A passthrough selector must be a version stage or version id of 1 to {MaxVersionStageLength} characters.", out error);
        }

        // Version ids are UUIDs; anything else is a staging label.
        return Guid.TryParse(selector, out _)
            ? new SecretReference(SecretStore.ParameterStore, name, versionId: selector, isPassthrough: true)
            : new SecretReference(SecretStore.ParameterStore, name, versionStage: selector == CurrentStage ? null : selector, isPassthrough: true);
    }

    private static bool IsValidSecretName(string name, out string? error)
    {
        if (name.Length == 0)
        {
            error = "A secret name must not be empty.";
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '/' or '_' or '+' or '=' or '.' or '@' or '-'))
            {
                error = $"The secret name contains '{Printable(c)}'; names may contain only letters, digits and / _ + = . @ -.";
                return false;
            }
        }

        error = null;
        return true;
    }

    private static bool IsValidParameterName(string name, out string? error)
    {
        if (name.Length == 0)
        {
            error = "A parameter name must not be empty.";
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '/' or '_' or '.' or '-'))
            {
                error = $"The parameter name contains '{Printable(c)}'; names may contain only letters, digits and _ . - /.";
                return false;
            }
        }

        if (name.Contains("//", StringComparison.Ordinal) || (name[0] != '/' && name.Contains('/', StringComparison.Ordinal)))
        {
            error = "A hierarchical parameter name must start with '/' and must not contain '//'.";
            return false;
        }

        error = null;
        return true;
    }

    private static bool IsValidLabel(string label, out string? error)
    {
        if (label.Length > MaxLabelLength)
        {
            error = $"A parameter label must be at most {MaxLabelLength} characters long.";
            return false;
        }

        if (label.StartsWith("aws", StringComparison.OrdinalIgnoreCase) || label.StartsWith("ssm", StringComparison.OrdinalIgnoreCase))
        {
            error = "A parameter label must not begin with 'aws' or 'ssm'.";
            return false;
        }

        foreach (var c in label)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
            {
                error = $"The parameter label contains '{Printable(c)}'; labels may contain only letters, digits and . - _.";
                return false;
            }
        }

        error = null;
        return true;
    }

    private static string StripQuery(string text)
    {
        var q = text.IndexOf('?', StringComparison.Ordinal);
        return q < 0 ? text : text[..q];
    }

    private static string Printable(char c) => char.IsControl(c) || char.IsWhiteSpace(c) ? $"\\u{(int)c:x4}" : c.ToString();

    private static SecretReference? Fail(string message, out string? error)
    {
        error = message;
        return null;
    }
}
