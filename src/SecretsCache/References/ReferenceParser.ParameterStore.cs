using static SecretsCache.References.NameRules;

namespace SecretsCache.References;

/// <summary>Parameter Store references: names, parameter ARNs, and the Secrets Manager passthrough.</summary>
internal static partial class ReferenceParser
{
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
            return ParsePassthroughArn(text, out error);
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

        SecretReference reference;
        if (selector is null)
        {
            reference = new SecretReference(SecretStore.ParameterStore, name, arn: arn);
        }
        else if (selector.Length == 0)
        {
            return Fail("The reference ends with ':' but names no version or label.", out error);
        }
        else if (char.IsAsciiDigit(selector[0]))
        {
            if (!long.TryParse(selector, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version) || version < 1)
            {
                return Fail("A parameter version must be a whole number from 1 up.", out error);
            }

            reference = new SecretReference(SecretStore.ParameterStore, name, parameterVersion: version, arn: arn);
        }
        else if (!IsValidLabel(selector, out error))
        {
            return null;
        }
        else
        {
            reference = new SecretReference(SecretStore.ParameterStore, name, parameterLabel: selector, arn: arn);
        }

        return FitsOneParameterName(reference, out error) ? reference : null;
    }

    // A secret ARN through the passthrough: arn:partition:secretsmanager:region:account:secret:name, then an optional :selector.
    private static SecretReference? ParsePassthroughArn(string text, out string? error)
    {
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

        if (!IsValidArnSecretName(resource["secret:".Length..], out error))
        {
            return null;
        }

        return ParsePassthroughSelector(PassthroughPrefix + secretArn, parts.Length == 8 ? parts[7] : null, out error);
    }

    private static SecretReference? ParsePassthrough(string name, string? selector, out string? error)
    {
        var secretName = name[PassthroughPrefix.Length..];
        if (secretName.Length == 0)
        {
            return Fail($"A passthrough reference must name a secret after '{PassthroughPrefix}'.", out error);
        }

        if (secretName.Length > MaxSecretNameLength)
        {
            return Fail($"The secret name is {secretName.Length} characters long; the limit is {MaxSecretNameLength}.", out error);
        }

        return IsValidSecretName(secretName, out error) ? ParsePassthroughSelector(name, selector, out error) : null;
    }

    private static SecretReference? ParsePassthroughSelector(string name, string? selector, out string? error)
    {
        SecretReference reference;
        if (selector is null)
        {
            reference = new SecretReference(SecretStore.ParameterStore, name, isPassthrough: true);
        }
        else if (selector.Length is 0 or > MaxVersionStageLength)
        {
            return Fail($"A passthrough selector must be a version stage or version id of 1 to {MaxVersionStageLength} characters.", out error);
        }
        else
        {
            // Version ids are UUIDs; anything else is a staging label.
            reference = Guid.TryParse(selector, out _)
                ? new SecretReference(SecretStore.ParameterStore, name, versionId: selector, isPassthrough: true)
                : new SecretReference(SecretStore.ParameterStore, name, versionStage: selector == CurrentStage ? null : selector, isPassthrough: true);
        }

        return FitsOneParameterName(reference, out error) ? reference : null;
    }

    // GetParameter reads "name:selector" as one PSParameterName, so the limit holds for the two together.
    private static bool FitsOneParameterName(SecretReference reference, out string? error)
    {
        var length = reference.Name.Length + (reference.ParameterSelector is { } selector ? 1 + selector.Length : 0);
        error = length > MaxParameterNameLength
            ? $"The parameter name with its selector is {length} characters long; the limit is {MaxParameterNameLength} (AWS reads 'name:selector' as one name)."
            : null;
        return error is null;
    }
}
