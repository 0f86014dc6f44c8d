namespace SecretsCache.References;

/// <summary>The characters AWS allows in secret names, parameter names and parameter labels; each error names the first bad one.</summary>
internal static class NameRules
{
    public static bool IsValidSecretName(string name, out string? error)
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
                error = $"The secret name contains '{ReferenceQuote.Printable(c)}'; names may contain only letters, digits and / _ + = . @ -.";
                return false;
            }
        }

        error = null;
        return true;
    }

    public static bool IsValidParameterName(string name, out string? error)
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
                error = $"The parameter name contains '{ReferenceQuote.Printable(c)}'; names may contain only letters, digits and _ . - /.";
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

    public static bool IsValidLabel(string label, out string? error)
    {
        if (label.Length > ReferenceParser.MaxLabelLength)
        {
            error = $"A parameter label must be at most {ReferenceParser.MaxLabelLength} characters long.";
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
                error = $"The parameter label contains '{ReferenceQuote.Printable(c)}'; labels may contain only letters, digits and . - _.";
                return false;
            }
        }

        error = null;
        return true;
    }

    /// <summary>True when the text holds a surrogate that is not half of a pair: it has no UTF-8 form to send to AWS.</summary>
    public static bool HasLoneSurrogate(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return true;
            }
        }

        return false;
    }
}
